// Test doubles for the widget's headless client: a clock, a gateway behind fetch, storage and
// Socket.IO. They record what the client did, so the tests assert on requests and events.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const { createClient, socketTarget } = require("../../bot/web/static/widget/client.js");

export const API = "http://gateway.test";

/** Let pending promise callbacks (fetch answers, awaits in the client) run. */
export async function flush() {
  for (let i = 0; i < 30; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Timers that only fire when the test advances time. */
export function fakeClock() {
  let now = 0;
  let seq = 0;
  const timers = new Map();
  return {
    setTimeout(fn, ms) {
      seq += 1;
      timers.set(seq, { at: now + (Number(ms) || 0), fn });
      return seq;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    get now() {
      return now;
    },
    /** The delays of the timers waiting now, soonest first. */
    waiting() {
      return [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b);
    },
    async advance(ms) {
      const end = now + ms;
      for (;;) {
        await flush();
        const due = [...timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = end;
      await flush();
    },
  };
}

/** A Storage (getItem/setItem/removeItem) over a Map, shared between client instances like localStorage. */
export function fakeStorage(initial = {}) {
  const data = new Map(Object.entries(initial).map(([k, v]) => [`chat-widget:${k}`, JSON.stringify(v)]));
  return {
    data,
    getItem: (key) => (data.has(key) ? data.get(key) : null),
    setItem: (key, value) => data.set(key, String(value)),
    removeItem: (key) => data.delete(key),
    value: (key) => (data.has(`chat-widget:${key}`) ? JSON.parse(data.get(`chat-widget:${key}`)) : null),
  };
}

/**
 * A gateway behind fetch. route(method, pathname, handler) answers matching requests in order:
 * handler(request) -> {status, body} | Promise of it | "network" (the request fails) | "hang" |
 * undefined (the next matching route answers).
 * Every request is recorded in `requests` with its parsed query and JSON body.
 */
export function fakeGateway() {
  const routes = [];
  const requests = [];
  let nextId = 100;
  const gateway = {
    requests,
    route(method, pathname, handler) {
      routes.push({ method, pathname, handler });
      return gateway;
    },
    message(sender, text, extra = {}) {
      nextId += 1;
      return { id: nextId, sender, text, buttons: [], agent_name: null, created_at: "2026-12-01T10:00:00Z", ...extra };
    },
    calls(method, pathname) {
      return requests.filter((r) => r.method === method && r.pathname === pathname);
    },
    fetch(url, init = {}) {
      const parsed = new URL(url);
      const request = {
        method: init.method || "GET",
        pathname: parsed.pathname,
        query: Object.fromEntries(parsed.searchParams),
        // A form (file upload) is recorded as its fields; a File field as {name, size, type}.
        body:
          init.body instanceof FormData
            ? Object.fromEntries(
                [...init.body.entries()].map(([k, v]) => [k, typeof v === "string" ? v : { name: v.name, size: v.size, type: v.type }])
              )
            : init.body
              ? JSON.parse(init.body)
              : null,
        headers: init.headers || {},
        signal: init.signal,
      };
      requests.push(request);
      return new Promise((resolve, reject) => {
        const abort = () => reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
        if (init.signal) {
          if (init.signal.aborted) return abort();
          init.signal.addEventListener("abort", abort);
        }
        // The first route whose handler answers (a handler returning undefined passes the request on).
        let answer;
        for (const route of routes) {
          if (route.method !== request.method || route.pathname !== request.pathname) continue;
          answer = route.handler(request);
          if (answer !== undefined) break;
        }
        if (answer === undefined) return resolve(respond(404, { error: "no such route" }));
        Promise.resolve(answer).then((answer) => {
          if (answer === "hang") return;
          if (answer === "network") return reject(new TypeError("Failed to fetch"));
          resolve(respond(answer.status || 200, answer.body || {}));
        }, reject);
      });
    },
  };
  return gateway;
}

function respond(status, body) {
  return { ok: status >= 200 && status < 300, status, json: async () => body };
}

/** Socket.IO's io(): every socket made is kept; the test plays the server's side on it. */
export function fakeSocketIo() {
  const sockets = [];
  function io(origin, options) {
    const handlers = new Map();
    const socket = {
      origin,
      options,
      sent: [],
      active: true,
      connected: false,
      closed: false,
      on(event, handler) {
        if (!handlers.has(event)) handlers.set(event, []);
        handlers.get(event).push(handler);
        return socket;
      },
      emit(event, data) {
        socket.sent.push([event, data]);
      },
      disconnect() {
        socket.closed = true;
        socket.active = false;
        if (socket.connected) {
          socket.connected = false;
          socket.fire("disconnect", "io client disconnect");
        }
      },
      connect() {
        socket.active = true;
        socket.reconnects = (socket.reconnects || 0) + 1;
      },
      // --- the server's side -----------------------------------------------------
      fire(event, ...args) {
        for (const handler of handlers.get(event) || []) handler(...args);
      },
      /** Accept the connection: returns the auth the client sent. */
      accept() {
        let auth = null;
        options.auth((value) => {
          auth = value;
        });
        socket.connected = true;
        socket.fire("connect");
        return auth;
      },
      refuse(message, { retry = false } = {}) {
        socket.active = retry;
        socket.fire("connect_error", new Error(message));
      },
      drop(reason = "transport close") {
        socket.connected = false;
        socket.fire("disconnect", reason);
      },
    };
    sockets.push(socket);
    return socket;
  }
  return { io, sockets, load: () => Promise.resolve(io) };
}

/** A client wired to the fakes, with every event it emitted recorded in `events`. */
export function setup({ storage = fakeStorage(), gateway = fakeGateway(), socketIo = fakeSocketIo(), ...rest } = {}) {
  const clock = fakeClock();
  let ids = 0;
  const client = createClient({
    apiBase: API,
    fetch: gateway.fetch,
    storage,
    loadSocketIo: rest.loadSocketIo || socketIo.load,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    random: () => 0.5,
    randomId: () => `cid-${(ids += 1)}`,
    ...rest,
  });
  const events = [];
  for (const name of [
    "messages",
    "confirmed",
    "queued",
    "sent",
    "refused",
    "retrying",
    "mode",
    "relay",
    "typing",
    "connection",
    "reset",
    "transport",
    "history",
    "agent",
    "fileSending",
    "fileSent",
    "fileRefused",
  ]) {
    client.on(name, (...args) => events.push([name, ...args]));
  }
  const shown = () => events.filter(([name]) => name === "messages").flatMap(([, list]) => list.map((m) => m.id));
  return { client, clock, gateway, storage, socketIo, events, shown };
}

/** A gateway that answers the chat like the real one in bot mode: the own message plus one bot reply. */
export function botGateway(gateway = fakeGateway()) {
  const byClientId = new Map();
  gateway.route("POST", "/api/session", () => ({ body: { session_id: "s".repeat(32) } }));
  gateway.route("POST", "/api/chat", ({ body }) => {
    if (!byClientId.has(body.client_id)) {
      byClientId.set(body.client_id, [gateway.message("customer", body.text), gateway.message("bot", `echo: ${body.text}`)]);
    }
    return { body: { messages: byClientId.get(body.client_id), mode: "bot" } };
  });
  return gateway;
}
