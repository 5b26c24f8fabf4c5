/* Conversation view: the timeline and panels from the embedded JSON, live messages, typing,
   status and panels over Socket.IO; replies, /shortcode canned answers, notes, labels,
   transfer, resolve, email answers to tickets, and keyboard shortcuts. */
(function () {
  "use strict";
  var VM = window.VMAgent;
  var R = window.VMRender;
  var live = window.VMLive;
  var root = document.getElementById("conversation");
  var base = root.dataset.base;
  var state = VM.pageState();
  var handoffId = state.handoff_id;
  var me = state.me;
  var handoff = state.handoff;
  var lastId = state.last_message_id || 0;
  var seen = new Set();
  var timeline = document.getElementById("timeline");
  var replyBox = document.getElementById("reply-text");

  live.viewing(handoffId);
  live.baseTitle("Conversation #" + handoffId + " · VoltMart agent console");

  // --- messages -------------------------------------------------------------------
  function append(messages, initial) {
    var empty = timeline.querySelector("li.empty");
    var added = false;
    messages.forEach(function (m) {
      if (m.id) {
        lastId = Math.max(lastId, m.id);
        if (seen.has(m.id)) return;
        seen.add(m.id);
      }
      if (empty) { empty.remove(); empty = null; }
      timeline.append(R.message(m));
      added = true;
      if (!initial && m.sender === "customer") showTyping(false);
    });
    if (!timeline.children.length) timeline.append(VM.el("li", "empty", "No messages yet."));
    if (added && timeline.lastElementChild) timeline.lastElementChild.scrollIntoView({ block: "end" });
  }

  // --- panels: header, side panel, notes, forms; always from the same state ---------------
  function mine() { return handoff.status === "assigned" && handoff.agent_id === me; }

  function renderState() {
    var badge = document.getElementById("handoff-status");
    badge.textContent = handoff.status;
    badge.className = "status status-" + handoff.status;
    document.getElementById("handoff-owner").textContent = handoff.agent_name ? "with " + handoff.agent_name : "";
    document.getElementById("handoff-labels").replaceChildren(R.labels(handoff.labels));
    R.handoffPanel(document.getElementById("handoff-panel"), handoff);
    var list = document.getElementById("note-list");
    var notes = state.notes || [];
    list.replaceChildren.apply(list, notes.length ? notes.map(R.note) : [VM.el("li", "empty", "No notes yet.")]);
    renderLabels();
    document.getElementById("claim-form").hidden = handoff.status !== "queued";
    document.getElementById("reply-form").hidden = !mine();
    document.getElementById("assigned-actions").hidden = !mine();
    var ticket = handoff.status === "ticket";
    document.getElementById("email-form").hidden = !(ticket && handoff.contact_email);
    document.getElementById("email-to").textContent = handoff.contact_email || "";
    renderTransferTargets();
  }

  function renderLabels() {
    var list = document.getElementById("label-list");
    var items = (handoff.labels || []).map(function (l) {
      var li = VM.el("li");
      li.append(VM.el("span", "chip label", l));
      var remove = VM.el("button", "link", "remove");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove label " + l);
      remove.addEventListener("click", function () { setLabel(l, false); });
      li.append(" ", remove);
      return li;
    });
    list.replaceChildren.apply(list, items.length ? items : [VM.el("li", "empty", "No labels.")]);
  }

  function renderTransferTargets() {
    var select = document.getElementById("transfer-to");
    var current = select.value;
    var options = (state.team || []).filter(function (a) { return a.id !== me; }).map(function (a) {
      var o = VM.el("option", null, a.name + " (" + a.presence + ")");
      o.value = String(a.id);
      return o;
    });
    var queue = VM.el("option", null, "Back to the queue");
    queue.value = "queue";
    options.push(queue);
    select.replaceChildren.apply(select, options);
    if (current) select.value = current;
  }

  var pendingPanel = null;
  /** Re-read /state and re-render every panel; calls close together share one request. */
  function refreshPanel() {
    if (pendingPanel) return pendingPanel;
    pendingPanel = VM.sleep(50).then(async function () {
      pendingPanel = null;
      try {
        var result = await VM.request("GET", base + "handoffs/" + handoffId + "/state");
        if (!result.ok) return;
        var wasMine = mine();
        handoff = result.data.handoff;
        state.notes = result.data.notes;
        renderState();
        if (wasMine && handoff.status === "assigned" && !mine()) {
          alertBox("This conversation is now with " + (handoff.agent_name || "another agent") + ".", "info");
        }
      } catch (err) { /* the next push retries */ }
    });
    return pendingPanel;
  }

  function alertBox(text, kind) {
    var box = document.getElementById("chat-alert");
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.className = "flash flash-" + (kind || "error");
    box.textContent = text;
    box.hidden = false;
  }

  // --- live ---------------------------------------------------------------------------
  live.onConnect(function (socket) {
    socket.emit("watch", { handoff_id: handoffId, after: lastId }, function (ack) {
      if (!ack || ack.error) { alertBox((ack && ack.error) || "Live updates are unavailable."); return; }
      append(ack.messages || []);
      if (ack.status !== handoff.status) refreshPanel();
    });
  });
  live.on("message", function (m) {
    append([m]);
    if (m.sender !== "agent") refreshPanel(); // e.g. a rating updates CSAT
  });
  live.on("mode", refreshPanel);
  live.on("queue", function (event) { if (event.handoff_id === handoffId || event.status === "presence") refreshPanel(); });

  var typingTimer = null;
  function showTyping(on) {
    clearTimeout(typingTimer);
    document.getElementById("customer-typing").hidden = !on;
    if (on) typingTimer = setTimeout(function () { showTyping(false); }, 8000);
  }
  live.on("typing", function (event) { if (event.sender === "customer") showTyping(event.typing); });

  var typingSent = false;
  var idleTimer = null;
  function sendTyping(on) {
    if (on === typingSent) return;
    typingSent = on;
    live.socket.emit("typing", { typing: on });
  }
  replyBox.addEventListener("input", function () {
    clearTimeout(idleTimer);
    if (!replyBox.value.trim()) { sendTyping(false); return; }
    sendTyping(true);
    idleTimer = setTimeout(function () { sendTyping(false); }, 3000);
  });
  replyBox.addEventListener("blur", function () { sendTyping(false); });

  // --- actions ----------------------------------------------------------------------------
  async function post(url, body, failure) {
    try {
      var result = await VM.request("POST", url, body);
      if (!result.ok) alertBox(result.data.error || failure);
      else alertBox(null);
      return result;
    } catch (err) {
      alertBox("Network problem: " + err.message);
      return { ok: false, data: {} };
    }
  }

  async function send(event) {
    event.preventDefault();
    var text = replyBox.value.trim();
    if (!text) return;
    var button = event.target.querySelector("button[type=submit]");
    button.disabled = true;
    // Cleared at once: the agent may type the next message before this one's answer arrives.
    replyBox.value = "";
    sendTyping(false);
    var result = await post(event.target.getAttribute("action"), { text: text }, "The message was not sent.");
    if (result.ok) {
      append([result.data.message]);
      refreshPanel();
    } else if (!replyBox.value.trim()) {
      replyBox.value = text; // nothing lost: the text is back for another try
    }
    button.disabled = false;
    replyBox.focus();
  }

  async function claim(event) {
    if (event) event.preventDefault();
    var result = await post(document.getElementById("claim-form").getAttribute("action"), undefined, "Could not claim this conversation.");
    if (result.ok) { await refreshPanel(); replyBox.focus(); }
  }

  async function resolve(event) {
    if (event) event.preventDefault();
    if (!mine()) return;
    var button = document.querySelector("#resolve-form button");
    button.disabled = true;
    var result = await post(document.getElementById("resolve-form").getAttribute("action"), undefined, "Could not resolve.");
    button.disabled = false;
    if (!result.ok) return;
    await refreshPanel();
    if (result.data.warning) alertBox(result.data.warning, "warning");
    else alertBox("Resolved. The customer was asked for a rating.", "info");
  }

  async function transfer(event) {
    event.preventDefault();
    var form = event.target;
    var result = await post(form.getAttribute("action"), {
      to: document.getElementById("transfer-to").value,
      note: document.getElementById("transfer-note").value,
    }, "Could not transfer.");
    if (result.ok) window.location.assign(result.data.url);
  }

  async function addNote(event) {
    event.preventDefault();
    var box = document.getElementById("note-text");
    if (!box.value.trim()) return;
    var result = await post(event.target.getAttribute("action"), { text: box.value }, "The note was not saved.");
    if (result.ok) { box.value = ""; refreshPanel(); }
  }

  async function setLabel(label, present) {
    var result = await post(document.getElementById("label-form").getAttribute("action"), { label: label, present: present }, "Could not change the labels.");
    if (result.ok) refreshPanel();
  }

  async function sendEmail(event) {
    event.preventDefault();
    var box = document.getElementById("email-text");
    if (!box.value.trim()) return;
    var button = event.target.querySelector("button");
    button.disabled = true;
    var result = await post(event.target.getAttribute("action"), { text: box.value }, "The email was not sent.");
    button.disabled = false;
    if (result.ok) {
      box.value = "";
      alertBox("Email answer queued for " + result.data.to + ". The promise is kept.", "info");
      refreshPanel();
    }
  }

  // --- canned answers by /shortcode -------------------------------------------------------------
  var menu = document.getElementById("canned-menu");
  var choices = [];
  var active = 0;

  function slashQuery() {
    var upto = replyBox.value.slice(0, replyBox.selectionStart);
    var match = /(^|\s)\/([a-z0-9-]*)$/.exec(upto);
    return match ? { query: match[2], start: upto.length - match[2].length - 1 } : null;
  }

  function renderMenu() {
    var slash = slashQuery();
    choices = slash ? (state.canned || []).filter(function (c) { return c.shortcode.indexOf(slash.query) === 0; }) : [];
    menu.hidden = !choices.length;
    active = Math.min(active, Math.max(choices.length - 1, 0));
    menu.replaceChildren.apply(menu, choices.map(function (c, n) {
      var li = VM.el("li", n === active ? "active" : "");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", n === active ? "true" : "false");
      li.dataset.testid = "canned-option";
      li.dataset.shortcode = c.shortcode;
      li.append(VM.el("strong", null, "/" + c.shortcode), " ", VM.el("span", "hint", c.title + " · " + c.lang));
      li.append(VM.el("div", "canned-text", c.text));
      li.addEventListener("mousedown", function (event) { event.preventDefault(); pick(n); });
      return li;
    }));
  }

  function pick(n) {
    var slash = slashQuery();
    var choice = choices[n];
    if (!slash || !choice) return;
    var before = replyBox.value.slice(0, slash.start);
    var after = replyBox.value.slice(replyBox.selectionStart);
    replyBox.value = before + choice.text + after;
    replyBox.selectionStart = replyBox.selectionEnd = before.length + choice.text.length;
    menu.hidden = true;
    choices = [];
    replyBox.dispatchEvent(new Event("input"));
  }

  replyBox.addEventListener("input", function () { active = 0; renderMenu(); });
  replyBox.addEventListener("keydown", function (event) {
    if (!menu.hidden && choices.length) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        active = (active + (event.key === "ArrowDown" ? 1 : choices.length - 1)) % choices.length;
        renderMenu();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") { event.preventDefault(); pick(active); return; }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); menu.hidden = true; return; }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) { event.preventDefault(); resolve(); return; }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      document.getElementById("reply-form").requestSubmit();
    }
  });

  // --- FAQ search ----------------------------------------------------------------------------------
  function insertAnswer(text) {
    var start = replyBox.selectionStart || 0;
    var end = replyBox.selectionEnd || 0;
    var before = replyBox.value.slice(0, start);
    replyBox.value = before + text + replyBox.value.slice(end);
    replyBox.focus();
    replyBox.selectionStart = replyBox.selectionEnd = before.length + text.length;
  }

  function renderResults(results) {
    var list = document.getElementById("kb-results");
    if (!results.length) { list.replaceChildren(VM.el("li", "empty", "No matching answers.")); return; }
    list.replaceChildren.apply(list, results.map(function (r) {
      var li = VM.el("li", "kb-result");
      li.dataset.kbId = r.id;
      var head = VM.el("div", "meta");
      head.append(VM.el("strong", null, r.question), " ");
      head.append(VM.el("span", "chip", r.id + (r.score !== null ? " · " + r.score.toFixed(2) : "") + " · " + r.lang));
      var text = VM.el("div", "text md");
      text.append(window.VMMarkdown.render(r.answer));
      var use = VM.el("button", null, "Insert into reply");
      use.type = "button";
      use.dataset.testid = "kb-insert";
      use.addEventListener("click", function () { insertAnswer(r.answer); });
      li.append(head, text, use);
      return li;
    }));
  }

  async function search(event) {
    if (event) event.preventDefault();
    var form = document.getElementById("kb-form");
    var query = document.getElementById("kb-q").value.trim();
    if (!query) return;
    var params = new URLSearchParams({ q: query, lang: document.getElementById("kb-lang").value });
    var result = await VM.request("GET", form.getAttribute("action") + "?" + params.toString());
    if (!result.ok) {
      document.getElementById("kb-results").replaceChildren(VM.el("li", "empty", result.data.error || "Search failed."));
      return;
    }
    renderResults(result.data.results || []);
  }

  // --- wiring ------------------------------------------------------------------------------------------
  document.getElementById("reply-form").addEventListener("submit", send);
  document.getElementById("claim-form").addEventListener("submit", claim);
  document.getElementById("resolve-form").addEventListener("submit", resolve);
  document.getElementById("transfer-form").addEventListener("submit", transfer);
  document.getElementById("note-form").addEventListener("submit", addNote);
  document.getElementById("email-form").addEventListener("submit", sendEmail);
  document.getElementById("label-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var box = document.getElementById("label-text");
    var value = box.value.trim().toLowerCase();
    if (!value) return;
    box.value = "";
    setLabel(value, true);
  });
  document.getElementById("kb-form").addEventListener("submit", search);
  root.querySelectorAll("[data-kb-id]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.getElementById("kb-q").value = button.dataset.kbId;
      search();
    });
  });

  live.key("r", function () { if (mine()) replyBox.focus(); });
  live.key("n", function () { document.getElementById("note-text").focus(); });
  live.key("e", function () { resolve(); });
  live.key("c", function () { if (handoff.status === "queued") claim(); });
  function neighbour(step) {
    // next / previous of the agent's own conversations, in queue order
    VM.request("GET", base + "queue.json").then(function (result) {
      var ids = (result.data.mine || []).map(function (h) { return h.id; });
      if (!ids.length) return;
      var at = ids.indexOf(handoffId);
      var next = ids[(at + step + ids.length) % ids.length];
      if (next !== handoffId) window.location.assign(base + "handoffs/" + next);
    });
  }
  live.key("j", function () { neighbour(1); });
  live.key("k", function () { neighbour(-1); });

  append(state.timeline || [], true);
  renderState();
})();
