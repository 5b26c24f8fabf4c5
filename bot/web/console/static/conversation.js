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
  live.baseTitle("Conversation #" + handoffId + " · " + (document.body.dataset.shopName || "") + " agent console");

  // --- messages -------------------------------------------------------------------
  var buttonTitles = new Map(); // payload -> title of the buttons the bot offered in this chat

  function withButtonTitle(m) {
    if (m.sender === "bot") (m.buttons || []).forEach(function (b) { buttonTitles.set(b.payload, b.title); });
    if (m.sender === "customer" && buttonTitles.has(m.text)) return Object.assign({}, m, { pressed: buttonTitles.get(m.text) });
    return m;
  }

  function append(messages, initial) {
    var empty = timeline.querySelector("li.empty");
    var added = false;
    messages.forEach(function (m) {
      m = withButtonTitle(m);
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
    if (!timeline.children.length) timeline.append(VM.el("li", "empty", VM.t("No messages yet.")));
    if (added && timeline.lastElementChild) timeline.lastElementChild.scrollIntoView({ block: "end" });
  }

  window.VMConversation = { append: append }; // files.js shows a sent file like a sent reply

  // --- panels: header, side panel, notes, forms; always from the same state ---------------
  function mine() { return handoff.status === "assigned" && handoff.agent_id === me; }

  function renderState() {
    var badge = document.getElementById("handoff-status");
    badge.textContent = handoff.status;
    badge.className = "status status-" + handoff.status;
    document.getElementById("handoff-owner").textContent = handoff.agent_name ? VM.t("with {name}", { name: handoff.agent_name }) : "";
    document.getElementById("handoff-labels").replaceChildren(R.labels(handoff.labels));
    R.handoffPanel(document.getElementById("handoff-panel"), handoff);
    var list = document.getElementById("note-list");
    var notes = state.notes || [];
    list.replaceChildren.apply(list, notes.length ? notes.map(R.note) : [VM.el("li", "empty", VM.t("No notes yet."))]);
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
    var result = await post(event.target.getAttribute("action"), { text: text }, VM.t("The message was not sent."));
    if (result.ok) {
      append([result.data.message]);
      await refreshPanel();
      if (resolveAfterSend) { resolveAfterSend = false; resolve(undefined, true); return; }
    } else if (!replyBox.value.trim()) {
      replyBox.value = text; // nothing lost: the text is back for another try
    }
    resolveAfterSend = false;
    button.disabled = false;
    replyBox.focus();
  }

  async function claim(event) {
    if (event) event.preventDefault();
    var result = await post(document.getElementById("claim-form").getAttribute("action"), undefined, "Could not claim this conversation.");
    if (result.ok) { await refreshPanel(); replyBox.focus(); }
  }

  // Resolving drops the reply box: a typed, unsent reply is never thrown away without asking.
  var confirmResolve = document.getElementById("resolve-confirm");
  confirmResolve.addEventListener("close", function () {
    if (confirmResolve.returnValue === "send") {
      resolveAfterSend = true;
      document.getElementById("reply-form").requestSubmit();
    } else if (confirmResolve.returnValue === "discard") {
      replyBox.value = "";
      resolve(undefined, true);
    } else {
      replyBox.focus();
    }
  });
  var resolveAfterSend = false;

  async function resolve(event, draftChecked) {
    if (event) event.preventDefault();
    if (!mine()) return;
    if (!draftChecked && replyBox.value.trim()) {
      confirmResolve.returnValue = "";
      confirmResolve.showModal();
      return;
    }
    var button = document.querySelector("#resolve-form button");
    button.disabled = true;
    var result = await post(document.getElementById("resolve-form").getAttribute("action"), undefined, "Could not resolve.");
    button.disabled = false;
    if (!result.ok) return;
    await refreshPanel();
    if (result.data.warning) alertBox(result.data.warning, "warning");
    else alertBox(VM.t("Resolved. The customer was asked for a rating."), "info");
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
    // Enter or Ctrl/Cmd+Enter sends (as in most chat tools); Shift+Enter is a new line.
    if (event.key === "Enter" && !event.shiftKey && !event.altKey && !event.isComposing) {
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

  function resultItem(r, weaker) {
    var li = VM.el("li", "kb-result" + (weaker ? " weaker" : ""));
    li.dataset.kbId = r.id;
    li.dataset.testid = weaker ? "kb-weaker" : "kb-answer";
    var head = VM.el("div", "meta");
    head.append(VM.el("strong", null, r.question), " ");
    var chip = r.id + (r.score !== null ? " · " + VM.t("similarity") + " " + VM.number(r.score) : "") + " · " + r.lang;
    head.append(VM.el("span", "chip", chip));
    if (!weaker && r.score !== null) head.append(" ", VM.el("span", "badge", VM.t("the bot answers with this")));
    var text = VM.el("div", "text md");
    text.append(window.VMMarkdown.render(r.answer));
    var use = VM.el("button", null, VM.t("Insert into reply"));
    use.type = "button";
    use.dataset.testid = "kb-insert";
    use.addEventListener("click", function () { insertAnswer(r.answer); });
    li.append(head, text, use);
    return li;
  }

  function renderResults(data) {
    var list = document.getElementById("kb-results");
    var items = (data.results || []).map(function (r) { return resultItem(r, false); });
    var weaker = data.weaker || [];
    if (!items.length) {
      // Honest: the nearest entries are shown only as what they are, below the bot's bar.
      var none = VM.el("li", "empty", weaker.length
        ? VM.t("No FAQ entry answers this: the closest is {score}, below the {bar} the bot needs.", { score: VM.number(data.best), bar: VM.number(data.bar) })
        : VM.t("No matching answers."));
      none.dataset.testid = "kb-none";
      items.push(none);
    }
    if (weaker.length) {
      var more = VM.el("li", "kb-weaker-group");
      var details = VM.el("details");
      details.append(VM.el("summary", null, VM.t("Other entries, not close enough for the bot ({count})", { count: weaker.length })));
      var inner = VM.el("ol", "kb-results");
      weaker.forEach(function (r) { inner.append(resultItem(r, true)); });
      details.append(inner);
      more.append(details);
      items.push(more);
    }
    list.replaceChildren.apply(list, items);
  }

  async function search(event) {
    if (event) event.preventDefault();
    var form = document.getElementById("kb-form");
    var query = document.getElementById("kb-q").value.trim();
    if (!query) return;
    var params = new URLSearchParams({ q: query, lang: document.getElementById("kb-lang").value });
    var result = await VM.request("GET", form.getAttribute("action") + "?" + params.toString());
    if (!result.ok) {
      document.getElementById("kb-results").replaceChildren(VM.el("li", "empty", result.data.error || VM.t("Search failed.")));
      return;
    }
    renderResults(result.data);
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
