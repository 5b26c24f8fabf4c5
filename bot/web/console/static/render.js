/* The one renderer of each console row: the first page load (JSON embedded in the page) and
   every live update (Socket.IO pushes, re-read JSON) go through these functions.
   textContent and the safe Markdown renderer only: customer text never becomes markup. */
(function () {
  "use strict";
  var VM = window.VMAgent;
  var el = VM.el;

  function senderLabel(m) {
    if (m.sender === "agent") return VM.t("{name} (agent)", { name: m.agent_name || "Agent" });
    if (m.sender === "customer") return VM.t("Customer");
    if (m.sender === "bot") return VM.t("Bot");
    return VM.t("System");
  }

  /** One message: the message_dict shape, optionally with the NLU's view (timeline items). */
  function message(m) {
    var li = el("li", "msg msg-" + m.sender + (m.source === "rasa" ? " msg-rasa" : ""));
    li.dataset.sender = m.sender;
    if (m.id) li.dataset.messageId = m.id;
    li.dataset.testid = "agent-timeline-message";
    var meta = el("div", "meta");
    meta.append(el("span", "who", senderLabel(m)));
    if (m.created_at) meta.append(" ", VM.timeNode(m.created_at));
    if (m.source === "rasa") {
      var badge = el("span", "badge", "bot log");
      badge.title = "from the bot's transcript only";
      meta.append(" ", badge);
    }
    li.append(meta);
    var text = el("div", "text");
    // Bot and agent text is Markdown (FAQ answers, canned answers); customers' text stays literal.
    if (m.sender === "customer" && m.pressed) {
      // A button the bot offered: its title, as the customer saw it, not the raw payload.
      text.classList.add("pressed");
      text.title = m.text;
      text.append(el("span", "badge", VM.t("button")), " ", m.pressed);
    } else if (m.sender === "customer") text.textContent = m.text;
    else { text.classList.add("md"); text.append(window.VMMarkdown.render(m.text)); }
    li.append(text);
    if (m.attachment) li.append(attachment(m.attachment));
    if (m.buttons && m.buttons.length) {
      var buttons = el("div", "buttons", VM.t("Options shown: "));
      m.buttons.forEach(function (b) { buttons.append(el("span", "chip", b.title)); });
      li.append(buttons);
    }
    if (m.intent_ranking && m.intent_ranking.length) li.append(nlu(m));
    return li;
  }

  function fileSize(bytes) {
    return bytes >= 1048576 ? (bytes / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(bytes / 1024)) + " kB";
  }

  /** A photo's thumbnail (opens the photo) or a PDF's download link; the file comes from /agent/attachments/. */
  function attachment(file) {
    var url = "/agent/attachments/" + encodeURIComponent(file.token);
    var link = el("a", "attachment");
    link.href = url;
    if (file.kind === "image") {
      link.target = "_blank";
      link.rel = "noopener";
      var image = el("img", "attachment-thumb");
      image.src = url;
      image.alt = "Photo: " + file.name;
      image.loading = "lazy";
      image.dataset.testid = "agent-attachment-image";
      link.append(image);
    } else {
      link.setAttribute("download", file.name);
      link.dataset.testid = "agent-attachment-file";
      link.append(el("span", "badge", "PDF"), " ", el("span", null, file.name), " ", el("span", "hint", fileSize(file.size)));
    }
    return link;
  }

  function nlu(m) {
    var top = m.intent_ranking[0];
    var details = el("details", "nlu");
    details.append(el("summary", null, "NLU: " + top.name + " " + (top.confidence || 0).toFixed(2)));
    var table = el("table", "ranking");
    m.intent_ranking.forEach(function (r) {
      var tr = el("tr");
      tr.append(el("td", null, r.name), el("td", "num", (r.confidence || 0).toFixed(2)));
      var meter = el("meter");
      meter.min = 0; meter.max = 1; meter.value = r.confidence || 0;
      var td = el("td"); td.append(meter); tr.append(td);
      table.append(tr);
    });
    details.append(table);
    if (m.entities && m.entities.length) {
      var p = el("p", "entities", "Entities: ");
      m.entities.forEach(function (e) { p.append(el("span", "chip", e.entity + "=" + e.value)); });
      details.append(p);
    }
    return details;
  }

  function cell(row, className, text) {
    var td = el("td", className, text);
    row.append(td);
    return td;
  }

  function labels(list) {
    var span = el("span", "labels");
    (list || []).forEach(function (l) { span.append(el("span", "chip label", l)); });
    return span;
  }

  function openLink(base, id, text, className) {
    var a = el("a", className, text);
    a.href = base + "handoffs/" + id;
    return a;
  }

  function claimButton(base, h) {
    var form = el("form", "inline claim-form");
    form.method = "post";
    form.action = base + "handoffs/" + h.id + "/claim";
    var button = el("button", null, "Claim");
    button.type = "submit";
    button.dataset.testid = "claim";
    form.append(button);
    return form;
  }

  /** A queue row; ``kind`` is waiting, mine or tickets. */
  function queueRow(kind, h, base) {
    var tr = el("tr", h.overdue ? "overdue" : "");
    tr.dataset.handoffId = h.id;
    tr.dataset.labels = (h.labels || []).join(" ");
    tr.dataset.channel = h.channel || "widget";
    cell(tr).append(el("span", "lang", h.language), " ", el("span", "chip channel", h.channel || "widget"));
    if (kind === "tickets") {
      cell(tr, null, h.contact_email || "— no email yet");
      var promise = cell(tr, null, h.promise || "");
      if (h.timed_out) promise.append(" ", el("span", "badge", "nobody claimed it"));
      var due = cell(tr);
      due.append(VM.timeNode(h.promise_due_at));
      if (h.overdue) due.append(" ", el("span", "badge badge-danger", "overdue"));
      cell(tr, "preview").append(openLink(base, h.id, h.preview || "(open)"));
      cell(tr).append(openLink(base, h.id, "Answer", "button"));
      return tr;
    }
    cell(tr, null, (h.reason || "").replace(/_/g, " "));
    var wait = cell(tr, "wait");
    wait.append(el("span", "duration", VM.duration(h.wait_seconds)), " ");
    var since = VM.timeNode(kind === "mine" ? h.claimed_at : h.waiting_since);
    since.className = "since";
    wait.append(since);
    var preview = cell(tr, "preview");
    if (kind === "mine" && h.awaiting_reply) preview.append(el("span", "badge", "awaiting reply"), " ");
    preview.append(h.preview || "");
    cell(tr).append(labels(h.labels));
    var actions = cell(tr);
    if (kind === "waiting") actions.append(claimButton(base, h), " ");
    actions.append(openLink(base, h.id, "Open", kind === "waiting" ? "link-quiet" : "button"));
    return tr;
  }

  function emptyRow(columns, text) {
    var tr = el("tr", "empty");
    var td = el("td", null, text);
    td.colSpan = columns;
    tr.append(td);
    return tr;
  }

  var NOTE_KINDS = { transfer: "transfer", email: "email sent" };

  function note(n) {
    var li = el("li", "note note-" + (n.kind || "note"));
    li.dataset.testid = "note";
    var meta = el("div", "meta");
    meta.append(el("span", "who", n.agent_name), " ", VM.timeNode(n.created_at));
    if (NOTE_KINDS[n.kind]) meta.append(" ", el("span", "badge", NOTE_KINDS[n.kind]));
    li.append(meta, el("div", "text", n.text));
    return li;
  }

  function field(dl, label, value, testid) {
    if (value === null || value === undefined || value === "") return;
    var dd = el("dd");
    if (value instanceof Node) dd.append(value);
    else dd.textContent = String(value);
    if (testid) dd.dataset.testid = testid;
    dl.append(el("dt", null, label), dd);
  }

  /** The "Handoff" side panel, from /state (so it never disagrees with the header). */
  function handoffPanel(dl, h) {
    dl.replaceChildren();
    var time = function (iso) { return iso ? VM.timeNode(iso) : null; };
    field(dl, "Reason", (h.reason || "").replace(/_/g, " "));
    field(dl, "Language", h.language);
    field(dl, "Channel", h.channel || "widget", "panel-channel");
    field(dl, "Status", h.status, "panel-status");
    field(dl, "Agent", h.agent_name || (h.status === "queued" ? "nobody yet" : null), "panel-agent");
    field(dl, "Customer email", h.contact_email);
    field(dl, "Promise", h.promise);
    if (h.promise) field(dl, "Promise state", h.promise_kept_at ? "kept" : "open", "promise-state");
    field(dl, "Promise due", time(h.promise_due_at));
    field(dl, "Promise kept", time(h.promise_kept_at));
    field(dl, "Answered by email", time(h.email_reply_at));
    field(dl, "Not claimed in time", time(h.timed_out_at));
    field(dl, "Conversation started", time(h.conversation_created_at));
    field(dl, "Handed off", time(h.created_at));
    field(dl, "Claimed", time(h.claimed_at));
    field(dl, "First agent reply", time(h.first_agent_reply_at));
    field(dl, "Resolved", time(h.resolved_at));
    field(dl, "Last activity", time(h.last_activity_at));
    field(dl, "CSAT", h.csat ? String(h.csat) : "—", "handoff-csat");
    field(dl, "CSAT comment", h.csat_comment);
  }

  window.VMRender = {
    message: message,
    queueRow: queueRow,
    emptyRow: emptyRow,
    note: note,
    labels: labels,
    handoffPanel: handoffPanel,
  };
})();
