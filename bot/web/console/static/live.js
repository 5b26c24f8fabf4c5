/* Live console: one Socket.IO connection per page (WebSocket, or long-polling where WebSocket
   is blocked), presence, attention (tab-title count, sound, desktop notification) and the
   shortcuts overlay. Page scripts subscribe with VMLive.on(event, fn). */
(function () {
  "use strict";
  var VM = window.VMAgent;
  var HEARTBEAT_MS = 30000;
  var me = parseInt(document.body.dataset.agentId, 10);
  var baseTitle = document.title;
  var handlers = {};
  var connectHandlers = [];
  var viewing = null; // the handoff this page shows, set by conversation.js

  // --- the connection --------------------------------------------------------------
  var socket = window.io({ auth: { role: "agent" }, withCredentials: true });
  var indicator = document.getElementById("connection");

  function showConnection(state, title) {
    if (!indicator) return;
    indicator.dataset.state = state;
    indicator.title = title;
  }
  socket.on("connect", function () {
    showConnection("live", "Live updates: connected (" + socket.io.engine.transport.name + ")");
    connectHandlers.forEach(function (fn) { fn(socket); });
  });
  socket.on("disconnect", function () { showConnection("down", "Live updates: reconnecting…"); });
  socket.on("connect_error", function (err) {
    showConnection("down", "Live updates: " + err.message);
    if (err.message === "login required") window.location.assign("/agent/login?next=" + encodeURIComponent(location.pathname));
  });
  ["message", "mode", "status", "queue", "typing"].forEach(function (event) {
    socket.on(event, function (data) { (handlers[event] || []).forEach(function (fn) { fn(data); }); });
  });
  setInterval(function () { if (socket.connected) socket.emit("presence", {}); }, HEARTBEAT_MS);

  // --- attention: count in the tab title, sound, desktop notification ----------------
  var COUNT_KEY = "vm.console.attention";
  var SOUND_KEY = "vm.console.sound";
  var badge = document.getElementById("attention-count");

  function count() { return parseInt(sessionStorage.getItem(COUNT_KEY) || "0", 10) || 0; }

  function showCount() {
    var n = count();
    document.title = (n ? "(" + n + ") " : "") + baseTitle;
    if (badge) { badge.textContent = String(n); badge.hidden = n === 0; }
  }

  function soundOn() { return localStorage.getItem(SOUND_KEY) !== "off"; }

  var audio = null;
  function beep() {
    if (!soundOn()) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (err) { /* no audio device: the title count still shows */ }
  }

  var recent = {}; // "handoff:status" -> time: the gateway and the action server may both announce one change

  function attention(key, title, body, url) {
    var now = Date.now();
    if (recent[key] && now - recent[key] < 15000) return;
    recent[key] = now;
    // Looking at the queue already: a sound, but nothing to count.
    var looking = document.body.dataset.page === "queue" && !document.hidden;
    if (!looking) {
      sessionStorage.setItem(COUNT_KEY, String(count() + 1));
      showCount();
    }
    beep();
    if ("Notification" in window && Notification.permission === "granted" && !document.hasFocus()) {
      var note = new Notification(title, { body: body || "", tag: url || title });
      note.onclick = function () { window.focus(); if (url) window.location.assign(url); };
    }
  }

  function clearAttention() { sessionStorage.setItem(COUNT_KEY, "0"); showCount(); }

  on("queue", function (event) {
    if (!event.handoff_id) return;
    var url = "/agent/handoffs/" + event.handoff_id;
    var key = event.handoff_id + ":" + event.status;
    if (event.customer_message) {
      if (event.agent_id === me && (viewing !== event.handoff_id || document.hidden)) {
        attention(key + ":" + Date.now(), "New customer message", "In conversation #" + event.handoff_id, url);
      }
    } else if (event.status === "queued" && !event.labels) {
      attention(key, event.transfer ? "A conversation is back in the queue" : "A customer is waiting", "Open the queue to claim it.", url);
    } else if (event.status === "assigned" && event.transfer && event.agent_id === me) {
      attention(key + ":" + me, "A conversation was transferred to you", "Open it to read the note.", url);
    }
  });

  // --- controls in the top bar ----------------------------------------------------------
  var sound = document.getElementById("sound-toggle");
  function showSound() {
    sound.textContent = soundOn() ? "Sound on" : "Sound off";
    sound.setAttribute("aria-pressed", soundOn() ? "true" : "false");
  }
  sound.addEventListener("click", function () {
    localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    showSound();
  });

  var notify = document.getElementById("notify-enable");
  if ("Notification" in window && Notification.permission === "default") {
    notify.hidden = false;
    notify.addEventListener("click", function () {
      Notification.requestPermission().then(function () { notify.hidden = true; });
    });
  }

  // The console's language: stored on the agent, the page comes back in it.
  var localeSelect = document.querySelector('[data-testid="console-locale"]');
  if (localeSelect) localeSelect.addEventListener("change", function () { localeSelect.form.submit(); });

  var presence = document.getElementById("presence");
  presence.addEventListener("change", async function () {
    var result = await VM.request("POST", "/agent/presence", { presence: presence.value });
    if (!result.ok) VM.flash(result.data.error || "Could not change your status.", "error");
    else document.body.dataset.presence = presence.value;
  });

  // --- shortcuts --------------------------------------------------------------------------
  var overlay = document.getElementById("shortcuts");
  var keys = {}; // page scripts register single-key actions
  var pendingG = false;
  document.getElementById("shortcuts-open").addEventListener("click", function () { overlay.showModal(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && VM.typingInto(event.target)) { event.target.blur(); return; }
    if (event.ctrlKey || event.metaKey || event.altKey || VM.typingInto(event.target) || overlay.open) return;
    if (event.key === "?") { event.preventDefault(); overlay.showModal(); return; }
    if (pendingG) {
      pendingG = false;
      if (event.key === "q") { event.preventDefault(); window.location.assign("/agent/"); }
      return;
    }
    if (event.key === "g") { pendingG = true; return; }
    var action = keys[event.key];
    if (action) { event.preventDefault(); action(event); }
  });

  function on(event, fn) { (handlers[event] = handlers[event] || []).push(fn); }

  window.VMLive = {
    socket: socket,
    me: me,
    on: on,
    onConnect: function (fn) { connectHandlers.push(fn); if (socket.connected) fn(socket); },
    key: function (key, fn) { keys[key] = fn; },
    viewing: function (handoffId) { viewing = handoffId; },
    clearAttention: clearAttention,
    baseTitle: function (title) { baseTitle = title; showCount(); },
  };
  showSound();
  showCount();
})();
