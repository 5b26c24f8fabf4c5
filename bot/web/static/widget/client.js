/*
 * The chat widget: the headless client. No DOM here: it keeps the session,
 * the outbox and the connection, and tells the view what happened through events.
 * Everything it touches outside itself (fetch, storage, Socket.IO, timers) is passed
 * in, so it runs the same in the browser and in Node's test runner
 * (tests/js/widget-client.test.mjs).
 *
 * Delivery rules:
 * - The outbox is kept in storage; a message is re-sent with the same client_id until
 *   the gateway accepts it (200, or 202 while the assistant reconnects). A 4xx other
 *   than 408/429 means the gateway refused it for good: it is dropped (event "refused"),
 *   so it never blocks the messages after it.
 * - Messages are de-duplicated by id, and a (re)connection resumes after the last id
 *   seen, so nothing is shown twice or lost across reconnects.
 * - A live connection is kept only while something can arrive that is not the answer
 *   to the client's own request: the panel is open, an agent has the conversation
 *   (handoff), or an answer is pending. Socket.IO reconnects with its own back-off;
 *   when it can't connect at all the client long-polls GET /api/messages instead.
 *
 * Events (client.on(name, handler)), all the view needs to draw:
 *   queued(entry) sending(entry, {expectReply}) idle(entry) confirmed(entry: has its id now)
 *   sent(entry, {pending}) retrying(entry, {reason, attempt}) refused(entry, {status, error})
 *   messages(list, {history}) history() session(id) mode(mode) relay("pending"|"delivered")
 *   connection("ok"|"reconnecting"|"offline") transport("none"|"socket"|"polling")
 *   typing({name, typing}) reset({reason: "ended"|"unknown-session"})
 *   agent(name|null): who has the conversation (from join/transfer/leave notices and agent messages)
 *   fileSending(file) fileSent(file) fileRefused(file, {status, reason, error})
 *
 * Files (sendFile) go one request each to POST /api/attachments; a File can't be kept in
 * storage, so an upload that fails is reported (fileRefused) for the customer to try again,
 * never retried behind their back. Its client_id makes a repeated request store it once.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) module.exports = factory();
  else (root.ChatWidgetParts = root.ChatWidgetParts || {}).client = factory();
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const KEY = "chat-widget:";
  const SENDERS = ["customer", "bot", "agent", "system"];
  const MODES = ["bot", "handoff"];

  /** JSON values in a Storage-like area (getItem/setItem/removeItem); never throws. */
  function jsonStore(area) {
    return {
      get(key) {
        try {
          const raw = area && area.getItem(KEY + key);
          return raw == null ? null : JSON.parse(raw);
        } catch (_) {
          return null;
        }
      },
      set(key, value) {
        try {
          if (area) area.setItem(KEY + key, JSON.stringify(value));
        } catch (_) {
          /* storage full or disabled: the widget still works for this page view */
        }
      },
      remove(key) {
        try {
          if (area) area.removeItem(KEY + key);
        } catch (_) {
          /* ignore */
        }
      },
    };
  }

  function defaultRandomId() {
    const bytes = new Uint8Array(12);
    globalThis.crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /** Where Socket.IO lives for a gateway URL: io(origin, {path}) (a path in the URL would be a namespace). */
  function socketTarget(apiBase) {
    const url = new URL(apiBase);
    return { origin: url.origin, path: `${url.pathname.replace(/\/+$/, "")}/socket.io` };
  }

  /** Why a chat request must be tried again later, or null when it is final. */
  function retryReason(status) {
    if (status === 429) return "rateLimited";
    if (status === 408) return "network";
    if (status === 502 || status === 503 || status === 504) return "restarting";
    if (status >= 500) return "server";
    return null;
  }

  /** A refusal about the session, not the request: the conversation is unknown, expired or ended. */
  function sessionGone(response) {
    return [400, 401, 404, 410].includes(response.status) && /session/i.test(String(response.data.error || ""));
  }

  function createClient(options) {
    const {
      apiBase,
      fetch: fetchImpl,
      loadSocketIo = () => Promise.reject(new Error("no Socket.IO")),
      storage = null,
      setTimeout: setTimer = globalThis.setTimeout.bind(globalThis),
      clearTimeout: clearTimer = globalThis.clearTimeout.bind(globalThis),
      random = Math.random,
      randomId = defaultRandomId,
      isOnline = () => true,
      historyPage = 200,
      pollWait = 25,
      chatTimeoutMs = 70000,
      typingIdleMs = 3000,
      agentTypingTimeoutMs = 10000,
      socketFailuresBeforePolling = 2,
      maxFileBytes = 10 * 1024 * 1024,
      uploadTimeoutMs = 120000,
    } = options;
    const store = jsonStore(storage);
    const listeners = new Map();

    // --- state -------------------------------------------------------------
    let sessionId = store.get("session");
    let mode = MODES.includes(store.get("mode")) ? store.get("mode") : "bot";
    let relayPending = store.get("relay") === "pending";
    let lastId = 0; // the highest message id this page view has (history is reloaded per page view)
    let lastCustomerId = 0; // the customer's newest message: a reply after it answers a pending one
    const known = new Set();
    const outbox = (store.get("outbox") || []).filter((entry) => entry && entry.clientId && entry.text);
    const settled = new Set(); // client_ids this tab saw accepted or refused
    let historyState = sessionId ? "no" : "loaded"; // no | loading | loaded
    let panelOpen = false;
    let started = false;
    let inflight = null; // the outbox entry whose POST /api/chat is under way
    let held = []; // pushed messages that arrived while our own message had no id yet
    let failures = 0;
    let retryTimer = null;
    let retryState = null; // {entry, reason} while the first outbox entry waits for a retry
    let connection = "ok"; // ok | reconnecting | offline
    let generation = 0; // bumped when the session changes: late answers for an old session are ignored

    // live transport
    let socket = null;
    let socketLoading = false;
    let socketFailures = 0;
    let socketConnected = false;
    let polling = null; // {stop()} while the long-poll fallback runs
    let transport = "none"; // none | socket | polling

    // typing
    let typingSent = false;
    let typingTimer = null;
    let agentTyping = null;
    let agentTypingTimer = null;
    let agent = null; // the name of the person who has the conversation, while one has it

    // --- events ------------------------------------------------------------
    function on(event, handler) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(handler);
      return () => listeners.get(event).delete(handler);
    }

    function emit(event, ...args) {
      for (const handler of Array.from(listeners.get(event) || [])) {
        try {
          handler(...args);
        } catch (error) {
          // A broken view handler must not stop delivery.
          if (globalThis.console) globalThis.console.error(error);
        }
      }
    }

    // --- HTTP ----------------------------------------------------------------
    async function api(method, path, body, timeoutMs = 20000, signal = null) {
      const controller = new AbortController();
      const abort = () => controller.abort();
      const timer = setTimer(abort, timeoutMs);
      if (signal) signal.addEventListener("abort", abort);
      const form = typeof FormData !== "undefined" && body instanceof FormData; // the browser sets its type
      try {
        const response = await fetchImpl(apiBase + path, {
          method,
          headers: body && !form ? { "Content-Type": "application/json" } : undefined,
          body: form ? body : body ? JSON.stringify(body) : undefined,
          credentials: "omit",
          cache: "no-store",
          signal: controller.signal,
        });
        let data = {};
        try {
          data = (await response.json()) || {};
        } catch (_) {
          data = {};
        }
        return { ok: response.ok, status: response.status, data };
      } finally {
        clearTimer(timer);
        if (signal) signal.removeEventListener("abort", abort);
      }
    }

    function setConnection(state) {
      const next = isOnline() === false && state !== "ok" ? "offline" : state;
      if (next === connection) return;
      const wasDown = connection !== "ok";
      connection = next;
      emit("connection", next);
      if (next === "ok" && wasDown && !inflight) retryNow(); // back: don't wait out the back-off
    }

    // --- session -------------------------------------------------------------
    async function ensureSession() {
      if (sessionId) return sessionId;
      const response = await api("POST", "/api/session", {});
      if (!response.ok || !response.data.session_id) {
        const error = new Error(`session: HTTP ${response.status}`);
        error.status = response.status;
        throw error;
      }
      sessionId = String(response.data.session_id);
      store.set("session", sessionId);
      historyState = "loaded"; // a new conversation has no history
      emit("session", sessionId);
      updateLive();
      return sessionId;
    }

    /** Forget the conversation on this device (the server no longer knows it, or the customer ended it). */
    function forget(reason) {
      generation += 1;
      inflight = null;
      closeLive();
      clearTimer(retryTimer);
      retryTimer = null;
      retryState = null;
      sessionId = null;
      mode = "bot";
      relayPending = false;
      lastId = 0;
      lastCustomerId = 0;
      known.clear();
      held = [];
      failures = 0;
      historyState = "loaded";
      stopAgentTyping();
      setAgent(null);
      typingSent = false;
      clearTimer(typingTimer);
      for (const key of ["session", "mode", "relay", "last"]) store.remove(key);
      if (reason === "ended") outbox.length = 0;
      for (const entry of outbox) entry.id = 0; // they go out again in the new conversation
      saveOutbox({ othersToo: reason !== "ended" }); // an ended chat takes every tab's unsent messages with it
      setConnection("ok");
      emit("reset", { reason });
      // Unsent messages of a conversation the server forgot go out in a new one.
      if (outbox.length) pump();
    }

    async function endChat() {
      const ending = sessionId;
      forget("ended");
      if (!ending) return true;
      try {
        const response = await api("POST", "/api/session/end", { session_id: ending });
        return response.ok || response.status === 404;
      } catch (_) {
        // The id is gone from this device, which was the only place that held it.
        return false;
      }
    }

    /** The optional comment after a rating; true when the gateway took it. */
    async function sendFeedback(rating, comment) {
      if (!sessionId) return false;
      const response = await api("POST", "/api/feedback", { session_id: sessionId, rating, comment });
      return response.ok;
    }

    /** "Was this helpful?" on one FAQ answer; true when the gateway took the vote. */
    async function sendHelpful(messageId, helpful, comment) {
      if (!sessionId) return false;
      const body = { session_id: sessionId, message_id: messageId, helpful };
      if (comment) body.comment = comment;
      const response = await api("POST", "/api/faq-feedback", body);
      return response.ok;
    }

    // --- receiving -------------------------------------------------------------
    function setMode(value) {
      if (!MODES.includes(value) || value === mode) return;
      mode = value;
      store.set("mode", value);
      if (value !== "handoff") {
        stopAgentTyping();
        stopTyping();
        setAgent(null);
      }
      emit("mode", value);
      updateLive();
    }

    function setAgent(name) {
      if (name === agent) return;
      agent = name;
      emit("agent", name);
    }

    /** Who has the conversation after this message: a notice says it, and an agent who writes has it. */
    function followAgent(message) {
      const notice = message.notice;
      if (message.sender === "system" && notice) {
        if (notice.kind === "joined" || notice.kind === "transferred") setAgent(notice.agent_name || null);
        else if (notice.kind === "queued" || notice.kind === "left") setAgent(null);
      } else if (message.sender === "agent" && message.agent_name) {
        setAgent(message.agent_name);
      }
    }

    function normaliseAttachment(raw) {
      if (!raw || typeof raw.token !== "string" || !/^[A-Za-z0-9_-]{20,64}$/.test(raw.token)) return null;
      return {
        token: raw.token,
        kind: raw.kind === "image" ? "image" : "pdf",
        name: String(raw.name || ""),
        size: Number(raw.size) || 0,
        width: Number(raw.width) || null,
        height: Number(raw.height) || null,
      };
    }

    function setRelay(state) {
      const pending = state === "pending";
      if (pending === relayPending) return;
      relayPending = pending;
      if (pending) store.set("relay", "pending");
      else store.remove("relay");
      emit("relay", pending ? "pending" : "delivered");
      updateLive();
    }

    function normalise(message) {
      const id = Number(message && message.id);
      if (!Number.isInteger(id) || id <= 0) return null;
      return {
        id,
        sender: SENDERS.includes(message.sender) ? message.sender : "system",
        text: message.text == null ? "" : String(message.text),
        buttons: Array.isArray(message.buttons)
          ? message.buttons
              .filter((button) => button && button.payload != null)
              .map((button) => ({ title: String(button.title || button.payload), payload: String(button.payload) }))
          : [],
        agent_name: message.agent_name == null ? null : String(message.agent_name),
        faq_id: typeof message.faq_id === "string" ? message.faq_id : null,
        attachment: normaliseAttachment(message.attachment),
        notice:
          message.notice && typeof message.notice.kind === "string"
            ? { kind: message.notice.kind, agent_name: message.notice.agent_name == null ? null : String(message.notice.agent_name) }
            : null,
        created_at: message.created_at || null,
        client_id: message.client_id || null,
      };
    }

    /** The unconfirmed outbox entry a stored customer message belongs to, if any. */
    function ownEntry(message) {
      const open = outbox.filter((entry) => !entry.id);
      if (message.client_id) return open.find((entry) => entry.clientId === message.client_id) || null;
      return open.find((entry) => entry.text.trim() === message.text.trim()) || null;
    }

    function confirm(entry, id) {
      if (entry.id === id) return;
      entry.id = id;
      lastCustomerId = Math.max(lastCustomerId, id);
      known.add(id);
      saveOutbox();
      emit("confirmed", entry);
    }

    /**
     * New messages from any source (chat answer, history, push, long-poll): each id once,
     * in id order. Own customer messages confirm their outbox entry instead of showing twice.
     */
    function receive(messages, { history = false, pushed = false } = {}) {
      if (!Array.isArray(messages) || !messages.length) return;
      if (pushed && inflight && !inflight.id) {
        // Our own message may be among them, but only the chat answer tells us its id.
        held.push(...messages);
        return;
      }
      const fresh = [];
      for (const raw of messages.map(normalise).filter(Boolean).sort((a, b) => a.id - b.id)) {
        if (raw.id > lastId) lastId = raw.id;
        if (known.has(raw.id)) continue;
        followAgent(raw);
        if (raw.sender === "customer") {
          lastCustomerId = Math.max(lastCustomerId, raw.id);
          const entry = ownEntry(raw);
          if (entry) {
            confirm(entry, raw.id);
            continue;
          }
        }
        known.add(raw.id);
        fresh.push(raw);
      }
      if (lastId > (store.get("last") || 0)) store.set("last", lastId);
      if (!fresh.length) return;
      // The pending answer came: a reply newer than the customer's last message (history has older ones too).
      const answered = fresh.some((m) => (m.sender === "bot" || m.sender === "agent") && m.id > lastCustomerId);
      if (relayPending && answered) setRelay("delivered");
      if (agentTyping && fresh.some((m) => m.sender === "agent")) stopAgentTyping();
      emit("messages", fresh, { history });
    }

    function releaseHeld() {
      const pending = held;
      held = [];
      receive(pending, { pushed: true });
    }

    /** After a long absence the connection's backlog is cut at one page: read the rest of it. */
    async function catchUp() {
      const mine = generation;
      try {
        for (;;) {
          const query = `session_id=${encodeURIComponent(sessionId)}&after=${lastId}`;
          const response = await api("GET", `/api/messages?${query}`);
          if (mine !== generation || !response.ok) return;
          const batch = Array.isArray(response.data.messages) ? response.data.messages : [];
          receive(batch, { pushed: true });
          if (batch.length < historyPage) return;
        }
      } catch (_) {
        // The next reconnection resumes from the last id we have.
      }
    }

    async function loadHistory() {
      if (historyState !== "no" || !sessionId) return;
      historyState = "loading";
      const mine = generation;
      const page = [];
      try {
        for (;;) {
          const after = page.length ? page[page.length - 1].id : 0;
          const query = `session_id=${encodeURIComponent(sessionId)}&after=${after}`;
          const response = await api("GET", `/api/messages?${query}`);
          if (mine !== generation) return;
          if (sessionGone(response)) {
            forget("unknown-session");
            return;
          }
          if (!response.ok) throw new Error(`history: HTTP ${response.status}`);
          const batch = Array.isArray(response.data.messages) ? response.data.messages : [];
          page.push(...batch.map(normalise).filter(Boolean));
          if (response.data.mode) setMode(response.data.mode);
          if (batch.length < historyPage) break;
        }
      } catch (_) {
        if (mine !== generation) return;
        historyState = "no";
        setConnection("reconnecting");
        // Try again while something needs it (an open panel, an unsent message, a live conversation).
        if (panelOpen || outbox.length || wantsLive()) schedule(loadHistory, backoff(++failures, 1000));
        return;
      }
      historyState = "loaded";
      receive(page, { history: true });
      setConnection("ok");
      emit("history");
      updateLive();
      pump();
    }

    // --- sending -----------------------------------------------------------------
    /**
     * The outbox in storage: ours, plus what other tabs of this visitor still have to send (each tab
     * writes the whole list, so it must not drop the others' entries).
     */
    function saveOutbox({ othersToo = true } = {}) {
      const ours = new Set(outbox.map((entry) => entry.clientId));
      const others = othersToo
        ? (store.get("outbox") || []).filter(
            (entry) => entry && entry.clientId && !ours.has(entry.clientId) && !settled.has(entry.clientId)
          )
        : [];
      const all = [
        ...others,
        ...outbox.map(({ clientId, text, display, rating, id }) => ({ clientId, text, display, rating, id })),
      ];
      if (all.length) store.set("outbox", all);
      else store.remove("outbox");
    }

    function send(text, { display = null, rating = null } = {}) {
      const entry = { clientId: randomId(), text, display: display || text, rating, id: 0 };
      outbox.push(entry);
      saveOutbox();
      stopTyping();
      emit("queued", entry);
      pump();
      return entry;
    }

    function backoff(count, base) {
      return Math.min(30000, base * 2 ** Math.min(count - 1, 4)) * (0.8 + random() * 0.4);
    }

    function schedule(fn, delay) {
      clearTimer(retryTimer);
      retryTimer = setTimer(() => {
        retryTimer = null;
        fn();
      }, delay);
    }

    function retryNow() {
      failures = 0;
      if (historyState === "no" && (panelOpen || outbox.length || wantsLive())) loadHistory();
      else pump();
    }

    function settle(entry) {
      settled.add(entry.clientId);
      const index = outbox.indexOf(entry);
      if (index >= 0) outbox.splice(index, 1);
      saveOutbox();
    }

    function chatOutcome(response, entry) {
      if (response.ok) return { kind: "sent", pending: response.status === 202 || response.data.status === "pending" };
      const reason = retryReason(response.status);
      if (reason) return { kind: "retry", reason };
      if (sessionGone(response) && !entry.newSession) return { kind: "new-session" };
      return { kind: "refused", status: response.status, error: String(response.data.error || "") };
    }

    async function pump() {
      if (inflight || !outbox.length || retryTimer) return;
      if (historyState === "no") {
        loadHistory();
        return;
      }
      if (historyState !== "loaded") return;
      const entry = outbox[0];
      const mine = generation;
      inflight = entry;
      retryState = null;
      emit("sending", entry, { expectReply: mode === "bot" });
      let outcome;
      try {
        await ensureSession();
        const response = await api(
          "POST",
          "/api/chat",
          { session_id: sessionId, text: entry.text, client_id: entry.clientId },
          chatTimeoutMs
        );
        if (mine !== generation) return; // the conversation was ended or replaced meanwhile
        outcome = chatOutcome(response, entry);
        if (outcome.kind === "new-session") {
          entry.newSession = true; // once: a gateway that keeps refusing the session refuses the message
          forget("unknown-session"); // the message goes out again, in a new conversation
          return;
        }
        const messages = Array.isArray(response.data.messages) ? response.data.messages : [];
        const own = messages.map(normalise).find((m) => m && m.sender === "customer");
        if (own && response.ok) confirm(entry, own.id);
        if (response.ok && response.data.mode) setMode(response.data.mode);
        setConnection("ok");
        receive(messages);
      } catch (error) {
        if (mine !== generation) return;
        const status = error && error.status; // POST /api/session answered with an error
        outcome = { kind: "retry", reason: status ? retryReason(status) || "server" : "network" };
        if (!status) setConnection("reconnecting");
      } finally {
        if (mine === generation) inflight = null;
      }
      emit("idle", entry);
      if (outcome.kind === "sent") {
        settle(entry);
        failures = 0;
        if (outcome.pending) setRelay("pending");
        emit("sent", entry, { pending: outcome.pending });
      } else if (outcome.kind === "refused") {
        settle(entry);
        emit("refused", entry, { status: outcome.status, error: outcome.error });
      } else {
        failures += 1;
        retryState = { entry, reason: outcome.reason };
        emit("retrying", entry, { reason: outcome.reason, attempt: failures });
      }
      releaseHeld();
      updateLive();
      if (outcome.kind === "retry") {
        schedule(pump, backoff(failures, outcome.reason === "rateLimited" ? 8000 : 2000));
      } else if (outbox.length) {
        pump();
      }
    }

    // --- files ---------------------------------------------------------------------
    /**
     * Send a photo or PDF; resolves true when the gateway stored it. ``lang``, the widget's language,
     * is what the bot answers a file in when the customer has not written anything yet.
     */
    async function sendFile(file, { lang = "en" } = {}) {
      const entry = { clientId: randomId(), name: String((file && file.name) || ""), size: Number(file && file.size) || 0 };
      if (entry.size > maxFileBytes) {
        emit("fileRefused", entry, { status: 413, reason: "too_large", error: "" });
        return false;
      }
      const mine = generation;
      emit("fileSending", entry);
      let response;
      try {
        await ensureSession();
        const form = new FormData();
        form.append("session_id", sessionId);
        form.append("client_id", entry.clientId);
        form.append("lang", String(lang));
        form.append("file", file, entry.name || "file");
        response = await api("POST", "/api/attachments", form, uploadTimeoutMs);
      } catch (error) {
        if (mine === generation) emit("fileRefused", entry, { status: 0, reason: "network", error: "" });
        return false;
      }
      if (mine !== generation) return false;
      if (!response.ok) {
        if (sessionGone(response)) forget("unknown-session");
        const reason = response.data.reason || (response.status === 429 ? "rate_limited" : "failed");
        emit("fileRefused", entry, { status: response.status, reason: String(reason), error: String(response.data.error || "") });
        return false;
      }
      setConnection("ok");
      if (response.data.mode) setMode(response.data.mode);
      receive(Array.isArray(response.data.messages) ? response.data.messages : []);
      emit("fileSent", entry);
      return true;
    }

    /** Where the customer's browser fetches a file of this conversation (the session id proves whose). */
    function attachmentUrl(token) {
      return `${apiBase}/api/attachments/${encodeURIComponent(token)}?session_id=${encodeURIComponent(sessionId || "")}`;
    }

    // --- typing --------------------------------------------------------------------
    function emitTyping(value) {
      if (socket && socketConnected) socket.emit("typing", { typing: value });
    }

    /** The customer typed something: tell the agent, at most once per burst (handoff only). */
    function noteTyping() {
      if (mode !== "handoff" || !socketConnected) return;
      if (!typingSent) {
        typingSent = true;
        emitTyping(true);
      }
      clearTimer(typingTimer);
      typingTimer = setTimer(stopTyping, typingIdleMs);
    }

    function stopTyping() {
      clearTimer(typingTimer);
      typingTimer = null;
      if (!typingSent) return;
      typingSent = false;
      emitTyping(false);
    }

    function onAgentTyping(data) {
      if (!data || (data.sender && data.sender !== "agent")) return;
      clearTimer(agentTypingTimer);
      if (!data.typing) {
        stopAgentTyping();
        return;
      }
      const name = data.name ? String(data.name) : null;
      const changed = !agentTyping || agentTyping.name !== name;
      agentTyping = { name };
      // A lost "stopped typing" must not leave the indicator on forever.
      agentTypingTimer = setTimer(stopAgentTyping, agentTypingTimeoutMs);
      if (changed) emit("typing", { name, typing: true });
    }

    function stopAgentTyping() {
      clearTimer(agentTypingTimer);
      agentTypingTimer = null;
      if (!agentTyping) return;
      const { name } = agentTyping;
      agentTyping = null;
      emit("typing", { name, typing: false });
    }

    // --- live connection -------------------------------------------------------------
    function wantsLive() {
      return Boolean(sessionId) && (panelOpen || mode === "handoff" || relayPending);
    }

    function updateLive() {
      if (!started) return;
      if (!wantsLive()) {
        closeLive();
        return;
      }
      if (historyState === "no") {
        loadHistory();
        return;
      }
      if (historyState !== "loaded") return;
      if (!socket && !socketLoading) openSocket();
    }

    function setTransport(value) {
      if (value === transport) return;
      transport = value;
      emit("transport", value);
    }

    async function openSocket() {
      socketLoading = true;
      let io = null;
      try {
        io = await loadSocketIo();
      } catch (_) {
        io = null;
      }
      socketLoading = false;
      if (!wantsLive() || socket) return;
      if (typeof io !== "function") {
        startPolling();
        return;
      }
      const { origin, path } = socketTarget(apiBase);
      const forSession = sessionId;
      const created = io(origin, {
        path,
        // Called on every (re)connection: always resume after the newest message we have.
        auth: (callback) => callback({ session_id: forSession, after: lastId }),
        withCredentials: false,
        reconnectionDelay: 1000,
        reconnectionDelayMax: 30000,
        randomizationFactor: 0.5,
        timeout: 20000,
      });
      socket = created;
      socketFailures = 0;
      const mine = (handler) => (...args) => {
        if (socket === created) handler(...args);
      };
      created.on(
        "connect",
        mine(() => {
          socketConnected = true;
          socketFailures = 0;
          stopPolling();
          setTransport("socket");
          setConnection("ok");
        })
      );
      created.on(
        "connect_error",
        mine((error) => {
          socketConnected = false;
          const message = String((error && error.message) || "");
          if (!created.active && /session/i.test(message)) {
            // "unknown session", "unknown, expired or ended session": this conversation is over.
            forget("unknown-session");
            return;
          }
          socketFailures += 1;
          if (!created.active) {
            // The server refused us for another reason: Socket.IO won't retry; long-poll instead.
            dropSocket();
            startPolling();
          } else if (socketFailures >= socketFailuresBeforePolling) {
            startPolling();
          }
        })
      );
      created.on(
        "disconnect",
        mine((reason) => {
          socketConnected = false;
          typingSent = false;
          if (reason === "io client disconnect") return;
          setConnection("reconnecting");
          if (reason === "io server disconnect") created.connect(); // Socket.IO leaves this one to us
        })
      );
      created.on(
        "messages",
        mine((data) => {
          const backlog = (data && Array.isArray(data.messages) && data.messages) || [];
          receive(backlog, { pushed: true });
          if (backlog.length >= historyPage) catchUp(); // the backlog is one page: read the rest
          if (data && data.mode) setMode(data.mode);
          if (data && data.status && data.status.relay) setRelay(data.status.relay);
        })
      );
      created.on(
        "message",
        mine((message) => receive([message], { pushed: true }))
      );
      created.on(
        "mode",
        mine((data) => data && setMode(data.mode))
      );
      created.on(
        "status",
        mine((data) => data && setRelay(data.relay))
      );
      created.on("typing", mine(onAgentTyping));
    }

    function dropSocket() {
      const current = socket;
      socket = null;
      socketConnected = false;
      if (current) {
        try {
          current.disconnect();
        } catch (_) {
          /* already closed */
        }
      }
    }

    function startPolling() {
      if (polling || !wantsLive()) return;
      const controller = new AbortController();
      const state = { stopped: false, stop: () => ((state.stopped = true), controller.abort()) };
      polling = state;
      setTransport("polling");
      (async () => {
        let errors = 0;
        while (!state.stopped && wantsLive()) {
          try {
            const query = `session_id=${encodeURIComponent(sessionId)}&after=${lastId}&wait=${pollWait}`;
            const response = await api("GET", `/api/messages?${query}`, null, (pollWait + 15) * 1000, controller.signal);
            if (state.stopped) break;
            if (sessionGone(response)) {
              forget("unknown-session");
              break;
            }
            if (!response.ok) throw new Error(`poll: HTTP ${response.status}`);
            errors = 0;
            receive(response.data.messages || [], { pushed: true });
            if (response.data.mode) setMode(response.data.mode);
            if (response.data.status === "pending" || response.data.relay === "pending") setRelay("pending");
            setConnection("ok");
          } catch (_) {
            if (state.stopped) break;
            errors += 1;
            setConnection("reconnecting");
            await new Promise((resolve) => {
              const timer = setTimer(resolve, backoff(errors, 1000));
              controller.signal.addEventListener("abort", () => {
                clearTimer(timer);
                resolve();
              });
            });
          }
        }
        if (polling === state) {
          polling = null;
          if (transport === "polling") setTransport(socket && socketConnected ? "socket" : "none");
        }
      })();
    }

    function stopPolling() {
      if (!polling) return;
      const current = polling;
      polling = null;
      current.stop();
    }

    function closeLive() {
      stopTyping();
      stopAgentTyping();
      dropSocket();
      stopPolling();
      setTransport("none");
    }

    // --- public ----------------------------------------------------------------------
    function start() {
      if (started) return;
      started = true;
      // Unsent messages, a conversation with an agent or an answer still to come need the history now;
      // otherwise a closed panel costs no request at all.
      if (sessionId && (outbox.length || mode === "handoff" || relayPending)) loadHistory();
      else pump();
      updateLive();
    }

    function setPanelOpen(open) {
      panelOpen = Boolean(open);
      if (panelOpen && historyState === "no") loadHistory();
      updateLive();
    }

    function networkChanged(online) {
      if (online) {
        // With nothing to send or receive there is nothing to reconnect.
        const needed = outbox.length > 0 || wantsLive() || (panelOpen && historyState === "no");
        if (connection === "offline") setConnection(needed ? "reconnecting" : "ok");
        clearTimer(retryTimer);
        retryTimer = null;
        retryNow();
        if (polling) {
          stopPolling();
          startPolling();
        }
      } else {
        setConnection("offline");
      }
    }

    function stop() {
      started = false;
      generation += 1;
      clearTimer(retryTimer);
      retryTimer = null;
      closeLive();
    }

    return {
      on,
      start,
      stop,
      send,
      retryNow: () => {
        clearTimer(retryTimer);
        retryTimer = null;
        retryNow();
      },
      setPanelOpen,
      loadHistory,
      noteTyping,
      endChat,
      sendFeedback,
      sendHelpful,
      sendFile,
      attachmentUrl,
      networkChanged,
      get state() {
        return {
          sessionId,
          mode,
          lastId,
          storedLastId: store.get("last") || 0,
          connection,
          relayPending,
          historyLoaded: historyState === "loaded",
          transport,
          agentTyping: agentTyping ? { name: agentTyping.name } : null,
          agent,
          retry: retryState ? { clientId: retryState.entry.clientId, reason: retryState.reason } : null,
          outbox: outbox.map(({ clientId, text, display, rating, id }) => ({ clientId, text, display, rating, id })),
        };
      },
    };
  }

  return { createClient, jsonStore, socketTarget };
});
