// The widget's headless client (bot/web/static/widget/client.js) without a browser:
// run with `node --test tests/js/` (make js-test).
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { API, botGateway, fakeGateway, fakeSocketIo, fakeStorage, flush, setup, socketTarget } from "./fakes.mjs";

const SESSION = "s".repeat(32);
const returning = (extra = {}) => fakeStorage({ session: SESSION, last: 105, ...extra });
const history = (gateway, messages, mode = "bot") => gateway.route("GET", "/api/messages", () => ({ body: { messages, mode } }));

describe("sending", () => {
  test("a first message opens a session and shows the answer once", async () => {
    const { client, gateway, storage, events, shown } = setup({ gateway: botGateway() });
    client.start();
    client.send("hello");
    await flush();
    assert.deepEqual(
      gateway.requests.map((r) => `${r.method} ${r.pathname}`),
      ["POST /api/session", "POST /api/chat"]
    );
    assert.deepEqual(gateway.calls("POST", "/api/chat")[0].body, { session_id: SESSION, text: "hello", client_id: "cid-1" });
    assert.equal(storage.value("session"), SESSION);
    const confirmed = events.find(([name]) => name === "confirmed");
    assert.equal(confirmed[1].id, 101, "the own message gets its stored id");
    assert.deepEqual(shown(), [102], "only the bot reply is new: the own message was already on screen");
    assert.deepEqual(client.state.outbox, []);
    assert.equal(storage.value("outbox"), null);
  });

  test("an unanswered message is re-sent with the same client_id, also after a reload", async () => {
    const storage = fakeStorage();
    const gateway = fakeGateway();
    const answers = ["network", { status: 503, body: { error: "restarting" } }];
    gateway.route("POST", "/api/session", () => ({ body: { session_id: SESSION } }));
    gateway.route("POST", "/api/chat", () => answers.shift()); // then the real-like gateway below
    const first = setup({ storage, gateway });
    first.client.start();
    first.client.send("where is my order");
    await first.clock.advance(0);
    const reasons = first.events.filter(([name]) => name === "retrying").map(([, , info]) => info.reason);
    assert.deepEqual(reasons, ["network"]);
    assert.equal(first.client.state.connection, "reconnecting");
    assert.deepEqual(first.clock.waiting(), [2000], "the retry waits (back-off, no busy loop)");
    await first.clock.advance(2000);
    assert.deepEqual(first.events.filter(([n]) => n === "retrying").map(([, , i]) => i.reason), ["network", "restarting"]);
    assert.deepEqual(first.clock.waiting(), [4000], "the back-off doubles");
    assert.deepEqual(storage.value("outbox").map((e) => e.clientId), ["cid-1"], "kept in storage while unsent");
    first.client.stop();

    // The page is reloaded: the new client finds the message in storage and sends it again.
    botGateway(gateway);
    history(gateway, []);
    const second = setup({ storage, gateway });
    second.client.start();
    await second.clock.advance(0);
    const chats = gateway.calls("POST", "/api/chat");
    assert.equal(chats.length, 3, "two tries before the reload, the one that worked after it");
    assert.ok(chats.every((c) => c.body.client_id === "cid-1"), JSON.stringify(chats.map((c) => c.body)));
    assert.deepEqual(second.client.state.outbox, []);
    assert.deepEqual(second.shown(), [102]);
  });

  test("a message the gateway refuses is dropped and the next one still goes out", async () => {
    const gateway = botGateway(fakeGateway().route("POST", "/api/chat", ({ body }) =>
      body.text === "poison" ? { status: 422, body: { error: "the message can't be processed" } } : undefined
    ));
    const { client, clock, events, shown } = setup({ gateway });
    client.start();
    client.send("poison");
    client.send("hello");
    await clock.advance(120_000);
    const refused = events.filter(([name]) => name === "refused");
    assert.equal(refused.length, 1);
    assert.equal(refused[0][1].text, "poison");
    assert.deepEqual(refused[0][2], { status: 422, error: "the message can't be processed" });
    const texts = gateway.calls("POST", "/api/chat").map((c) => c.body.text);
    assert.deepEqual(texts, ["poison", "hello"], "the refused message is sent once, never retried");
    assert.deepEqual(client.state.outbox, []);
    assert.equal(shown().length, 1, "the answer to the next message is shown");
  });

  test("408 and 429 are retried, 429 after a longer wait", async () => {
    const gateway = fakeGateway();
    const answers = [{ status: 429, body: { error: "too many" } }, { status: 408, body: {} }];
    gateway.route("POST", "/api/session", () => ({ body: { session_id: SESSION } }));
    gateway.route("POST", "/api/chat", ({ body }) =>
      answers.shift() || { body: { messages: [{ id: 7, sender: "customer", text: body.text }], mode: "bot" } }
    );
    const { client, clock, events } = setup({ gateway });
    client.start();
    client.send("hi");
    await clock.advance(0);
    assert.deepEqual(clock.waiting(), [8000]);
    await clock.advance(8000);
    await clock.advance(30_000);
    assert.deepEqual(events.filter(([n]) => n === "retrying").map(([, , i]) => i.reason), ["rateLimited", "network"]);
    assert.equal(events.filter(([n]) => n === "sent").length, 1);
    assert.equal(gateway.calls("POST", "/api/chat").length, 3);
  });

  test("retryNow sends at once instead of waiting for the back-off", async () => {
    const gateway = fakeGateway();
    const answers = [{ status: 503, body: {} }];
    gateway.route("POST", "/api/session", () => ({ body: { session_id: SESSION } }));
    gateway.route("POST", "/api/chat", () => answers.shift() || { body: { messages: [], mode: "bot" } });
    const { client, clock } = setup({ gateway });
    client.start();
    client.send("hi");
    await clock.advance(0);
    client.retryNow();
    await flush();
    assert.equal(gateway.calls("POST", "/api/chat").length, 2);
    assert.deepEqual(client.state.outbox, []);
  });

  test("an expired session: the message goes out in a new conversation", async () => {
    const gateway = fakeGateway();
    let sessions = 0;
    gateway.route("POST", "/api/session", () => ({ body: { session_id: `new-session-${(sessions += 1)}`.padEnd(32, "x") } }));
    gateway.route("GET", "/api/messages", () => ({ body: { messages: [], mode: "bot" } }));
    gateway.route("POST", "/api/chat", ({ body }) =>
      body.session_id === SESSION
        ? { status: 404, body: { error: "unknown session" } }
        : { body: { messages: [{ id: 9, sender: "customer", text: body.text }], mode: "bot" } }
    );
    const { client, clock, events } = setup({ gateway, storage: returning() });
    client.start();
    client.setPanelOpen(true);
    client.send("hello");
    await clock.advance(0);
    assert.deepEqual(events.filter(([n]) => n === "reset").map(([, r]) => r.reason), ["unknown-session"]);
    assert.deepEqual(gateway.calls("POST", "/api/chat").map((c) => c.body.session_id.slice(0, 11)), ["sssssssssss", "new-session"]);
    assert.equal(events.filter(([n]) => n === "refused").length, 0);
    assert.deepEqual(client.state.outbox, []);
  });
});

describe("connection policy", () => {
  test("a returning visitor with the panel closed in bot mode makes no request and opens no socket", async () => {
    const gateway = botGateway();
    const socketIo = fakeSocketIo();
    let loads = 0;
    const { client, clock } = setup({
      gateway,
      socketIo,
      storage: returning({ mode: "bot" }),
      loadSocketIo: () => ((loads += 1), socketIo.load()),
    });
    client.start();
    await clock.advance(120_000);
    assert.deepEqual(gateway.requests, []);
    assert.equal(socketIo.sockets.length, 0);
    assert.equal(loads, 0, "the Socket.IO client is not even loaded");
    assert.deepEqual(clock.waiting(), [], "and nothing is scheduled");
  });

  test("opening the panel loads the history, then connects after its last id; closing disconnects", async () => {
    const gateway = fakeGateway();
    history(gateway, [gateway.message("customer", "hi"), gateway.message("bot", "hello!")]);
    const { client, clock, socketIo, shown, events } = setup({ gateway, storage: returning() });
    client.start();
    client.setPanelOpen(true);
    await clock.advance(0);
    assert.equal(gateway.calls("GET", "/api/messages")[0].query.after, "0");
    assert.equal(gateway.calls("GET", "/api/messages")[0].query.wait, undefined, "history does not wait");
    assert.deepEqual(shown(), [101, 102]);
    assert.ok(events.some(([name, , info]) => name === "messages" && info.history));
    assert.equal(socketIo.sockets.length, 1);
    const socket = socketIo.sockets[0];
    assert.equal(socket.origin, API);
    assert.equal(socket.options.path, "/socket.io");
    assert.deepEqual(socket.accept(), { session_id: SESSION, after: 102 });
    assert.equal(client.state.transport, "socket");

    client.setPanelOpen(false);
    assert.ok(socket.closed, "no connection while nothing can arrive");
    assert.equal(client.state.transport, "none");
    client.setPanelOpen(true);
    await clock.advance(0);
    assert.equal(socketIo.sockets.length, 2);
    assert.equal(gateway.calls("GET", "/api/messages").length, 1, "the history is loaded once per page view");
  });

  test("handoff mode keeps a connection with the panel closed, and leaving it disconnects", async () => {
    const gateway = fakeGateway();
    history(gateway, [gateway.message("customer", "a person please")], "handoff");
    const { client, clock, socketIo, events } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    assert.equal(socketIo.sockets.length, 1);
    const socket = socketIo.sockets[0];
    socket.accept();
    socket.fire("message", gateway.message("agent", "Hi, I'm Jana", { agent_name: "Jana" }));
    assert.deepEqual(events.filter(([n]) => n === "messages").at(-1)[1].map((m) => m.text), ["Hi, I'm Jana"]);
    socket.fire("mode", { mode: "bot" });
    assert.ok(socket.closed);
    assert.equal(client.state.mode, "bot");
  });

  test("an answer that is pending (202) keeps a connection until it is pushed", async () => {
    const gateway = fakeGateway();
    gateway.route("POST", "/api/session", () => ({ body: { session_id: SESSION } }));
    gateway.route("POST", "/api/chat", ({ body }) => ({
      status: 202,
      body: { messages: [{ id: 11, sender: "customer", text: body.text }], status: "pending" },
    }));
    const { client, clock, socketIo, events, storage, shown } = setup({ gateway });
    client.start();
    client.send("track my order");
    await clock.advance(0);
    assert.deepEqual(events.filter(([n]) => n === "relay").map(([, s]) => s), ["pending"]);
    assert.equal(storage.value("relay"), "pending");
    assert.deepEqual(client.state.outbox, [], "a 202 is accepted: it is not sent again");
    assert.equal(gateway.calls("POST", "/api/chat").length, 1);
    assert.equal(socketIo.sockets.length, 1, "connected although the panel is closed");
    const socket = socketIo.sockets[0];
    assert.deepEqual(socket.accept(), { session_id: SESSION, after: 11 });
    socket.fire("status", { relay: "pending" });
    socket.fire("message", { id: 12, sender: "bot", text: "Your order ships today." });
    assert.deepEqual(shown(), [12]);
    assert.deepEqual(events.filter(([n]) => n === "relay").map(([, s]) => s), ["pending", "delivered"]);
    assert.ok(socket.closed, "nothing else can arrive now");
    assert.equal(storage.value("relay"), null);
  });

  test("after a reload an answer still pending keeps the connection; one that came meanwhile doesn't", async () => {
    const waiting = fakeGateway();
    history(waiting, [{ id: 1, sender: "bot", text: "hi" }, { id: 2, sender: "customer", text: "delivery?" }]);
    const first = setup({ gateway: waiting, storage: returning({ relay: "pending" }) });
    first.client.start();
    await first.clock.advance(0);
    assert.equal(first.socketIo.sockets.length, 1, "the panel is closed, but the answer will be pushed");
    assert.equal(first.client.state.relayPending, true);

    const answered = fakeGateway();
    history(answered, [{ id: 2, sender: "customer", text: "delivery?" }, { id: 3, sender: "bot", text: "2 days" }]);
    const second = setup({ gateway: answered, storage: returning({ relay: "pending" }) });
    second.client.start();
    await second.clock.advance(0);
    assert.equal(second.socketIo.sockets.length, 0);
    assert.equal(second.client.state.relayPending, false);
    assert.equal(second.storage.value("relay"), null);
  });

  test("Socket.IO that can't connect falls back to long-polling; a later connect stops it", async () => {
    const gateway = fakeGateway();
    const polls = [];
    gateway.route("GET", "/api/messages", (request) => {
      if (request.query.wait === undefined) return { body: { messages: [gateway.message("bot", "old")], mode: "bot" } };
      return new Promise((resolve) => polls.push(resolve));
    });
    const { client, clock, socketIo, shown } = setup({ gateway, storage: returning() });
    client.start();
    client.setPanelOpen(true);
    await clock.advance(0);
    const socket = socketIo.sockets[0];
    socket.refuse("xhr poll error", { retry: true });
    assert.equal(polls.length, 0, "one failure is left to Socket.IO's reconnection");
    socket.refuse("xhr poll error", { retry: true });
    await flush();
    assert.equal(polls.length, 1);
    const poll = gateway.calls("GET", "/api/messages").at(-1);
    assert.equal(poll.query.after, "101");
    assert.equal(poll.query.wait, "25");
    assert.equal(client.state.transport, "polling");
    polls.shift()({ body: { messages: [gateway.message("agent", "new")], mode: "handoff" } });
    await flush();
    assert.deepEqual(shown(), [101, 102]);
    assert.equal(gateway.calls("GET", "/api/messages").at(-1).query.after, "102", "the next poll resumes after it");

    assert.deepEqual(socket.accept(), { session_id: SESSION, after: 102 });
    assert.equal(client.state.transport, "socket");
    assert.ok(gateway.calls("GET", "/api/messages").at(-1).signal.aborted, "the open long-poll is cancelled");
    await clock.advance(60_000);
    assert.equal(polls.length, 1, "no further polls while the socket is up");
  });

  test("without the Socket.IO client at all the widget long-polls with back-off", async () => {
    const gateway = fakeGateway();
    let polls = 0;
    gateway.route("GET", "/api/messages", (request) => {
      if (request.query.wait === undefined) return { body: { messages: [], mode: "bot" } };
      polls += 1;
      return "network";
    });
    const { client, clock } = setup({ gateway, storage: returning(), loadSocketIo: () => Promise.reject(new Error("blocked")) });
    client.start();
    client.setPanelOpen(true);
    await clock.advance(0);
    assert.equal(polls, 1);
    assert.equal(client.state.transport, "polling");
    assert.equal(client.state.connection, "reconnecting");
    await clock.advance(60_000);
    assert.ok(polls >= 4 && polls <= 7, `back-off between failed polls (${polls} polls in a minute)`);
    client.setPanelOpen(false);
    const before = polls;
    await clock.advance(120_000);
    assert.equal(polls, before, "a closed panel in bot mode stops polling");
  });

  test("history of an expired chat (410): the widget starts afresh", async () => {
    const gateway = fakeGateway();
    gateway.route("GET", "/api/messages", () => ({ status: 410, body: { error: "this chat ended after a long pause; start a new one with POST /api/session" } }));
    const { client, clock, socketIo, storage, events } = setup({ gateway, storage: returning() });
    client.start();
    client.setPanelOpen(true);
    await clock.advance(60_000);
    assert.deepEqual(events.filter(([n]) => n === "reset").map(([, r]) => r.reason), ["unknown-session"]);
    assert.equal(storage.value("session"), null);
    assert.equal(gateway.calls("GET", "/api/messages").length, 1, "not asked again");
    assert.equal(socketIo.sockets.length, 0);
  });

  test("a refused connection for an expired or ended session starts afresh", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    const { client, clock, socketIo, events } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    socketIo.sockets[0].refuse("xhr poll error", { retry: true }); // a network error is Socket.IO's to retry
    assert.equal(client.state.sessionId, SESSION);
    socketIo.sockets[0].refuse("unknown, expired or ended session");
    assert.equal(client.state.sessionId, null);
    assert.deepEqual(events.filter(([n]) => n === "reset").map(([, r]) => r.reason), ["unknown-session"]);
  });

  test("a refused connection for an unknown session starts afresh", async () => {
    const gateway = botGateway();
    history(gateway, [], "handoff");
    const { client, clock, socketIo, storage, events } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    socketIo.sockets[0].refuse("unknown session");
    assert.equal(storage.value("session"), null);
    assert.equal(storage.value("mode"), null);
    assert.equal(client.state.sessionId, null);
    assert.deepEqual(events.filter(([n]) => n === "reset").map(([, r]) => r.reason), ["unknown-session"]);
    assert.ok(socketIo.sockets[0].closed);
    client.send("hello again");
    await flush();
    assert.equal(gateway.calls("POST", "/api/session").length, 1, "a new session for the next message");
  });
});

describe("resume and de-duplication", () => {
  test("a reconnect resumes after the last id and repeated messages are shown once", async () => {
    const gateway = fakeGateway();
    history(gateway, [gateway.message("bot", "one")]);
    const { client, clock, socketIo, shown } = setup({ gateway, storage: returning() });
    client.start();
    client.setPanelOpen(true);
    await clock.advance(0);
    const socket = socketIo.sockets[0];
    socket.accept();
    socket.fire("messages", { messages: [{ id: 101, sender: "bot", text: "one" }], mode: "bot" });
    socket.fire("message", { id: 102, sender: "agent", text: "two" });
    socket.drop("transport close");
    assert.equal(client.state.connection, "reconnecting");
    assert.deepEqual(socket.accept(), { session_id: SESSION, after: 102 }, "Socket.IO's reconnection asks for the newer ones");
    assert.equal(client.state.connection, "ok");
    socket.fire("messages", { messages: [{ id: 102, sender: "agent", text: "two" }, { id: 103, sender: "agent", text: "three" }], mode: "handoff" });
    socket.fire("message", { id: 103, sender: "agent", text: "three" });
    assert.deepEqual(shown(), [101, 102, 103]);
    assert.equal(client.state.mode, "handoff");
  });

  test("the own message pushed while its request is under way is not shown twice", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    let answer;
    gateway.route("POST", "/api/chat", () => new Promise((resolve) => (answer = resolve)));
    const { client, clock, socketIo, events, shown } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    const socket = socketIo.sockets[0];
    socket.accept();
    client.send("my parcel is late");
    await flush();
    socket.fire("message", { id: 200, sender: "customer", text: "my parcel is late" });
    socket.fire("message", { id: 201, sender: "agent", text: "Let me check." });
    assert.deepEqual(shown(), [], "held until the request says which id is ours");
    answer({ body: { messages: [{ id: 200, sender: "customer", text: "my parcel is late" }], mode: "handoff" } });
    await flush();
    assert.deepEqual(shown(), [201]);
    assert.deepEqual(events.filter(([n]) => n === "confirmed").map(([, e]) => e.id), [200]);
  });

  test("a message stored by a lost request is matched to its outbox entry when it comes back", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    gateway.route("POST", "/api/chat", () => "network");
    const { client, clock, socketIo, shown, events } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    socketIo.sockets[0].accept();
    client.send("hello");
    await flush();
    socketIo.sockets[0].fire("message", { id: 300, sender: "customer", text: "hello" });
    assert.deepEqual(shown(), []);
    assert.deepEqual(events.filter(([n]) => n === "confirmed").map(([, e]) => e.id), [300]);
  });

  test("history comes in pages of 200", async () => {
    const gateway = fakeGateway();
    gateway.route("GET", "/api/messages", (request) => {
      const after = Number(request.query.after);
      const count = after < 200 ? 200 : 3;
      return { body: { messages: Array.from({ length: count }, (_, i) => ({ id: after + i + 1, sender: "bot", text: "x" })), mode: "bot" } };
    });
    const { client, clock, shown } = setup({ gateway, storage: returning() });
    client.start();
    client.setPanelOpen(true);
    await clock.advance(0);
    assert.deepEqual(gateway.calls("GET", "/api/messages").map((r) => r.query.after), ["0", "200"]);
    assert.equal(shown().length, 203);
    assert.equal(client.state.lastId, 203);
  });
});

describe("typing", () => {
  test("customer typing is sent once per burst, only in handoff mode", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    const { client, clock, socketIo } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    const socket = socketIo.sockets[0];
    socket.accept();
    for (let i = 0; i < 5; i += 1) {
      client.noteTyping();
      await clock.advance(500);
    }
    assert.deepEqual(socket.sent, [["typing", { typing: true }]]);
    await clock.advance(3000);
    assert.deepEqual(socket.sent, [["typing", { typing: true }], ["typing", { typing: false }]]);
    socket.fire("mode", { mode: "bot" });
    client.setPanelOpen(true);
    await clock.advance(0);
    socketIo.sockets[1].accept();
    client.noteTyping();
    assert.deepEqual(socketIo.sockets[1].sent, [], "the bot does not need to know");
  });

  test("agent typing is shown, ends with the agent's message, and expires if the stop is lost", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    const { client, clock, socketIo, events } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    const socket = socketIo.sockets[0];
    socket.accept();
    const typing = () => events.filter(([n]) => n === "typing").map(([, t]) => `${t.name}:${t.typing}`);
    socket.fire("typing", { sender: "agent", name: "Jana", typing: true });
    socket.fire("typing", { sender: "agent", name: "Jana", typing: true });
    assert.deepEqual(typing(), ["Jana:true"]);
    socket.fire("message", { id: 5, sender: "agent", text: "Done", agent_name: "Jana" });
    assert.deepEqual(typing(), ["Jana:true", "Jana:false"]);
    socket.fire("typing", { sender: "agent", name: "Jana", typing: true });
    await clock.advance(10_000);
    assert.deepEqual(typing(), ["Jana:true", "Jana:false", "Jana:true", "Jana:false"]);
  });
});

describe("end chat", () => {
  test("ends the session on the server and forgets it here", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    gateway.route("POST", "/api/session/end", () => ({ body: { ok: true } }));
    const storage = returning({ mode: "handoff", outbox: [{ clientId: "x", text: "unsent", display: "unsent", id: 0 }] });
    gateway.route("POST", "/api/chat", () => "hang");
    const { client, clock, socketIo, events } = setup({ gateway, storage });
    client.start();
    await clock.advance(0);
    assert.equal(await client.endChat(), true);
    assert.deepEqual(gateway.calls("POST", "/api/session/end").map((r) => r.body), [{ session_id: SESSION }]);
    for (const key of ["session", "mode", "outbox", "last", "relay"]) assert.equal(storage.value(key), null, key);
    assert.ok(socketIo.sockets.every((s) => s.closed));
    assert.deepEqual(events.filter(([n]) => n === "reset").map(([, r]) => r.reason), ["ended"]);
    assert.deepEqual(client.state.outbox, []);
    assert.equal(client.state.sessionId, null);
  });
});

test("Socket.IO is reached under the gateway's path, not as a namespace", () => {
  assert.deepEqual(socketTarget("https://shop.example/support"), { origin: "https://shop.example", path: "/support/socket.io" });
  assert.deepEqual(socketTarget("http://127.0.0.1:5005"), { origin: "http://127.0.0.1:5005", path: "/socket.io" });
});

describe("network changes", () => {
  test("back online: a waiting message goes out at once, without waiting out the back-off", async () => {
    const online = { value: true };
    const gateway = fakeGateway();
    gateway.route("POST", "/api/session", () => ({ body: { session_id: SESSION } }));
    gateway.route("POST", "/api/chat", ({ body }) =>
      online.value ? { body: { messages: [{ id: 3, sender: "customer", text: body.text }], mode: "bot" } } : "network"
    );
    const { client, clock, events } = setup({ gateway, isOnline: () => online.value });
    client.start();
    online.value = false;
    client.networkChanged(false);
    client.send("hi");
    await clock.advance(0);
    assert.equal(client.state.connection, "offline");
    assert.deepEqual(clock.waiting(), [2000]);
    for (let i = 0; i < 5; i += 1) await clock.advance(30_000);
    const tries = gateway.calls("POST", "/api/chat").length;
    assert.ok(tries <= 9, `back-off while offline: 2, 4, 8, 16, then every 30 s (${tries} tries in 150 s)`);
    assert.deepEqual(clock.waiting(), [30000], "capped at 30 s");
    online.value = true;
    client.networkChanged(true);
    await flush();
    assert.equal(gateway.calls("POST", "/api/chat").length, tries + 1);
    assert.deepEqual(client.state.outbox, []);
    assert.equal(client.state.connection, "ok");
    assert.deepEqual(
      events.filter(([n]) => n === "connection").map(([, s]) => s),
      ["offline", "reconnecting", "ok"]
    );
  });

  test("back online with nothing to send or receive: no notice is left behind, no request made", async () => {
    const gateway = fakeGateway();
    const { client, clock } = setup({ gateway, storage: returning() });
    client.start();
    client.networkChanged(false);
    client.networkChanged(true);
    await clock.advance(60_000);
    assert.equal(client.state.connection, "ok");
    assert.deepEqual(gateway.requests, []);
  });

  test("a too long message (413) is refused with its status, for the view to explain", async () => {
    const gateway = fakeGateway();
    gateway.route("POST", "/api/session", () => ({ body: { session_id: SESSION } }));
    gateway.route("POST", "/api/chat", () => ({ status: 413, body: { error: "the message is too long" } }));
    const { client, clock, events } = setup({ gateway });
    client.start();
    client.send("x".repeat(3000));
    await clock.advance(60_000);
    assert.deepEqual(events.filter(([n]) => n === "refused").map(([, , info]) => info.status), [413]);
    assert.equal(gateway.calls("POST", "/api/chat").length, 1);
  });

  test("a server that drops the connection is reconnected to", async () => {
    const gateway = fakeGateway();
    history(gateway, [], "handoff");
    const { client, clock, socketIo } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await clock.advance(0);
    const socket = socketIo.sockets[0];
    socket.accept();
    socket.drop("io server disconnect"); // Socket.IO leaves this reconnection to the application
    assert.equal(socket.reconnects, 1);
    assert.equal(client.state.connection, "reconnecting");
    assert.equal(socketIo.sockets.length, 1, "the same socket reconnects; no second connection");
  });
});

test("a reconnection backlog cut at one page is completed from the history", async () => {
  const gateway = fakeGateway();
  gateway.route("GET", "/api/messages", (request) => {
    const after = Number(request.query.after);
    if (after === 0) return { body: { messages: [{ id: 1, sender: "bot", text: "hi" }], mode: "handoff" } };
    const ids = after < 400 ? Array.from({ length: 200 }, (_, i) => after + i + 1) : [401, 402];
    return { body: { messages: ids.map((id) => ({ id, sender: "agent", text: `m${id}` })), mode: "handoff" } };
  });
  const { client, clock, socketIo, shown } = setup({ gateway, storage: returning({ mode: "handoff" }) });
  client.start();
  await clock.advance(0);
  const socket = socketIo.sockets[0];
  socket.accept();
  socket.fire("messages", { messages: Array.from({ length: 200 }, (_, i) => ({ id: i + 2, sender: "agent", text: "x" })), mode: "handoff" });
  await clock.advance(0);
  assert.deepEqual(gateway.calls("GET", "/api/messages").map((r) => r.query.after), ["0", "201", "401"]);
  const ids = shown();
  assert.equal(ids.length, 402);
  assert.equal(new Set(ids).size, 402);
  assert.equal(client.state.lastId, 402);
});

test("two tabs of one visitor keep each other's unsent messages in storage", async () => {
  const storage = fakeStorage({ session: SESSION });
  const gateway = fakeGateway();
  history(gateway, []);
  const answers = [];
  gateway.route("POST", "/api/chat", (request) => new Promise((resolve) => answers.push({ request, resolve })));
  const a = setup({ storage, gateway });
  const b = setup({ storage, gateway, randomId: () => "tab-b-1" });
  a.client.start();
  b.client.start();
  a.client.setPanelOpen(true);
  b.client.setPanelOpen(true);
  await a.clock.advance(0);
  a.client.send("from tab a");
  b.client.send("from tab b");
  await flush();
  assert.deepEqual(storage.value("outbox").map((e) => e.text).sort(), ["from tab a", "from tab b"]);
  const ok = ({ request, resolve }) =>
    resolve({ body: { messages: [{ id: request.body.text.length, sender: "customer", text: request.body.text }], mode: "bot" } });
  ok(answers.find((x) => x.request.body.text === "from tab b"));
  await flush();
  assert.deepEqual(storage.value("outbox").map((e) => e.text), ["from tab a"], "tab b's save kept tab a's message");
  ok(answers.find((x) => x.request.body.text === "from tab a"));
  await flush();
  assert.equal(storage.value("outbox"), null);
});

describe("files", () => {
  const photo = () => new File([new Uint8Array([0xff, 0xd8, 0xff, 0xe0])], "kettle.jpg", { type: "image/jpeg" });
  const attachment = { token: "t".repeat(43), kind: "image", name: "kettle.jpg", size: 4, width: 10, height: 8 };

  test("a photo is posted as a form with the session and a client_id, and shown once", async () => {
    const gateway = botGateway();
    gateway.route("POST", "/api/attachments", () => ({
      body: {
        messages: [gateway.message("customer", "", { attachment }), gateway.message("bot", "I can't look at photos")],
        mode: "bot",
      },
    }));
    const { client, events, shown } = setup({ gateway });
    client.start();
    assert.equal(await client.sendFile(photo(), { lang: "sk" }), true);
    const [upload] = gateway.calls("POST", "/api/attachments");
    assert.deepEqual(upload.body, {
      session_id: SESSION,
      client_id: "cid-1",
      lang: "sk",
      file: { name: "kettle.jpg", size: 4, type: "image/jpeg" },
    });
    assert.equal(upload.headers["Content-Type"], undefined, "the browser sets the multipart boundary");
    assert.deepEqual(shown(), [101, 102]);
    const own = events.find(([name]) => name === "messages")[1][0];
    assert.deepEqual(own.attachment, attachment);
    assert.deepEqual(events.filter(([n]) => n.startsWith("file")).map(([n]) => n), ["fileSending", "fileSent"]);
    assert.equal(
      client.attachmentUrl(attachment.token),
      `${API}/api/attachments/${attachment.token}?session_id=${SESSION}`
    );
  });

  test("a refused file says why and is not retried; a too large one never leaves the device", async () => {
    const gateway = botGateway();
    gateway.route("POST", "/api/attachments", () => ({
      status: 415,
      body: { error: "only photos (JPEG, PNG, WebP, GIF) and PDF documents can be sent", reason: "unsupported" },
    }));
    const { client, clock, events } = setup({ gateway, maxFileBytes: 10 });
    client.start();
    assert.equal(await client.sendFile(photo()), false);
    const refused = events.filter(([n]) => n === "fileRefused").map(([, , info]) => [info.status, info.reason]);
    assert.deepEqual(refused, [[415, "unsupported"]]);
    await clock.advance(60000);
    assert.equal(gateway.calls("POST", "/api/attachments").length, 1, "no retry behind the customer's back");
    const big = new File([new Uint8Array(11)], "big.pdf", { type: "application/pdf" });
    assert.equal(await client.sendFile(big), false);
    assert.equal(gateway.calls("POST", "/api/attachments").length, 1);
    assert.deepEqual(events.filter(([n]) => n === "fileRefused").at(-1)[2].reason, "too_large");
  });
});

describe("who has the conversation", () => {
  test("queued, then connected with the agent who joined, passed on, back to the queue, then the bot", async () => {
    const gateway = botGateway();
    const { client, events, socketIo } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    history(gateway, [gateway.message("customer", "a person please")], "handoff");
    client.start();
    await flush();
    const socket = socketIo.sockets[0];
    socket.accept();
    assert.equal(client.state.agent, null, "in the queue: nobody has it yet");
    const notice = (kind, name) => gateway.message("system", `${kind}`, { notice: { kind, agent_name: name } });
    socket.fire("message", notice("joined", "Alice"));
    assert.equal(client.state.agent, "Alice");
    socket.fire("message", notice("transferred", "Bob"));
    socket.fire("message", notice("queued", null));
    socket.fire("message", notice("joined", "Carol"));
    socket.fire("message", gateway.message("agent", "Hi, I'm Carol", { agent_name: "Carol" }));
    socket.fire("message", notice("left", "Carol"));
    socket.fire("mode", { mode: "bot" });
    const seen = events.filter(([n]) => n === "agent").map(([, name]) => name);
    assert.deepEqual(seen, ["Alice", "Bob", null, "Carol", null]);
  });

  test("a reload finds the agent in the history", async () => {
    const gateway = botGateway();
    history(
      gateway,
      [
        gateway.message("customer", "a person please"),
        gateway.message("system", "Alice joined", { notice: { kind: "joined", agent_name: "Alice" } }),
      ],
      "handoff"
    );
    const { client } = setup({ gateway, storage: returning({ mode: "handoff" }) });
    client.start();
    await flush();
    assert.equal(client.state.agent, "Alice");
    assert.equal(client.state.mode, "handoff");
  });
});
