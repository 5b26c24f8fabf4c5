/* Conversation view: long-polls new messages, sends replies, claims, resolves, canned answers. */
(function () {
  "use strict";
  var VM = window.VMAgent;
  var WAIT_SECONDS = 20;

  var root, base, handoffId, status, mine, lastId;
  var seen = new Set();

  function senderLabel(m) {
    if (m.sender === "agent") return (m.agent_name || "Agent") + " (agent)";
    if (m.sender === "customer") return "Customer";
    if (m.sender === "bot") return "Bot";
    return "System";
  }

  function renderMessage(m) {
    var li = VM.el("li", "msg msg-" + m.sender);
    li.dataset.sender = m.sender;
    li.dataset.messageId = m.id;
    li.dataset.testid = "agent-timeline-message";
    var meta = VM.el("div", "meta");
    meta.appendChild(VM.el("span", "who", senderLabel(m)));
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(VM.timeNode(m.created_at));
    li.appendChild(meta);
    li.appendChild(VM.el("div", "text", m.text));
    if (m.buttons && m.buttons.length) {
      var buttons = VM.el("div", "buttons", "Options shown: ");
      m.buttons.forEach(function (b) { buttons.appendChild(VM.el("span", "chip", b.title)); });
      li.appendChild(buttons);
    }
    return li;
  }

  function append(messages) {
    var timeline = document.getElementById("timeline");
    var empty = timeline.querySelector("li.empty");
    messages.forEach(function (m) {
      lastId = Math.max(lastId, m.id);
      if (seen.has(m.id)) return;
      seen.add(m.id);
      if (empty) { empty.remove(); empty = null; }
      timeline.appendChild(renderMessage(m));
    });
    if (messages.length) timeline.lastElementChild.scrollIntoView({ block: "end" });
  }

  function alertBox(text, kind) {
    var box = document.getElementById("chat-alert");
    if (!text) { box.hidden = true; box.textContent = ""; return; }
    box.className = "flash flash-" + (kind || "error");
    box.textContent = text;
    box.hidden = false;
  }

  function setStatus(state) {
    status = state.status;
    var badge = document.getElementById("handoff-status");
    badge.textContent = status;
    badge.className = "status status-" + status;
    document.getElementById("handoff-owner").textContent = state.agent_name ? "with " + state.agent_name : "";
    if (state.csat) document.getElementById("handoff-csat").textContent = String(state.csat);
    var active = status === "assigned" && mine;
    document.getElementById("reply-form").hidden = !active;
    document.getElementById("resolve-form").hidden = !active;
    var claim = document.getElementById("claim-form");
    if (claim && status !== "queued") claim.hidden = true;
    if (status === "assigned" && !mine) alertBox("This conversation was taken by " + (state.agent_name || "another agent") + ".", "info");
  }

  async function poll() {
    for (;;) {
      try {
        var url = base + "handoffs/" + handoffId + "/events?after=" + lastId + "&wait=" + WAIT_SECONDS +
          "&status=" + encodeURIComponent(status);
        var result = await VM.request("GET", url);
        if (!result.ok) { await VM.sleep(3000); continue; }
        append(result.data.messages || []);
        if (result.data.status !== status) setStatus(result.data);
        else if (result.data.csat) setStatus(result.data);
      } catch (err) {
        await VM.sleep(2000);
      }
    }
  }

  async function send(event) {
    event.preventDefault();
    var form = event.target;
    var box = document.getElementById("reply-text");
    var text = box.value.trim();
    if (!text) return;
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      var result = await VM.request("POST", form.getAttribute("action"), { text: text });
      if (result.ok) {
        box.value = "";
        alertBox(null);
        append([result.data.message]);
      } else {
        alertBox(result.data.error || "The message was not sent.");
      }
    } catch (err) {
      alertBox("Network problem, the message was not sent: " + err.message);
    }
    button.disabled = false;
    box.focus();
  }

  async function claim(event) {
    event.preventDefault();
    var result = await VM.request("POST", event.target.getAttribute("action"));
    if (result.ok) { window.location.reload(); return; }
    alertBox(result.data.error || "Could not claim this conversation.");
  }

  async function resolve(event) {
    event.preventDefault();
    var button = event.target.querySelector("button");
    button.disabled = true;
    var result = await VM.request("POST", event.target.getAttribute("action"));
    button.disabled = false;
    if (!result.ok) { alertBox(result.data.error || "Could not resolve."); return; }
    mine = false;
    setStatus({ status: "resolved", agent_name: null });
    if (result.data.warning) alertBox(result.data.warning, "warning");
    else alertBox("Resolved. The customer was asked for a rating.", "info");
  }

  function insertAnswer(text) {
    var box = document.getElementById("reply-text");
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var after = box.value.slice(end);
    box.value = before + text + after;
    box.focus();
    box.selectionStart = box.selectionEnd = before.length + text.length;
  }

  function renderResults(results) {
    var list = document.getElementById("kb-results");
    if (!results.length) { list.replaceChildren(VM.el("li", "empty", "No matching answers.")); return; }
    list.replaceChildren.apply(list, results.map(function (r) {
      var li = VM.el("li", "kb-result");
      li.dataset.kbId = r.id;
      var head = VM.el("div", "meta");
      head.appendChild(VM.el("strong", null, r.question));
      head.appendChild(document.createTextNode(" "));
      head.appendChild(VM.el("span", "chip", r.id + (r.score !== null ? " · " + r.score.toFixed(2) : "") + " · " + r.lang));
      li.appendChild(head);
      li.appendChild(VM.el("div", "text", r.answer));
      var use = VM.el("button", null, "Insert into reply");
      use.type = "button";
      use.dataset.testid = "kb-insert";
      use.addEventListener("click", function () { insertAnswer(r.answer); });
      li.appendChild(use);
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

  document.addEventListener("DOMContentLoaded", function () {
    root = document.getElementById("conversation");
    if (!root) return;
    base = root.dataset.base;
    handoffId = root.dataset.handoffId;
    status = root.dataset.status;
    mine = root.dataset.mine === "1";
    lastId = parseInt(root.dataset.lastId, 10) || 0;
    root.querySelectorAll("[data-message-id]").forEach(function (node) {
      seen.add(parseInt(node.dataset.messageId, 10));
    });
    document.getElementById("reply-form").addEventListener("submit", send);
    document.getElementById("reply-text").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        document.getElementById("reply-form").requestSubmit();
      }
    });
    document.getElementById("resolve-form").addEventListener("submit", resolve);
    var claimForm = document.getElementById("claim-form");
    if (claimForm) claimForm.addEventListener("submit", claim);
    document.getElementById("kb-form").addEventListener("submit", search);
    root.querySelectorAll("[data-kb-id]").forEach(function (button) {
      button.addEventListener("click", function () {
        document.getElementById("kb-q").value = button.dataset.kbId;
        search();
      });
    });
    var timeline = document.getElementById("timeline");
    if (timeline.lastElementChild) timeline.lastElementChild.scrollIntoView({ block: "end" });
    poll();
  });
})();
