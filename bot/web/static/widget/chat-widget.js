/*
 * The chat widget. Embed with one tag:
 *   <script src="https://support.example/static/widget/chat-widget.js" defer
 *           data-lang="sk" data-open="false" data-theme="dark"></script>
 * data-lang (one of the shop's languages, default: navigator.language), data-open (true|false),
 * data-theme (dark|light, default: prefers-color-scheme), data-api (gateway URL,
 * default: derived from this script's src).
 *
 * This file is only the loader and the widget's composition root: it loads its
 * siblings from the same folder (widget.css, i18n.js, client.js = the headless
 * client, view.js = the DOM), wires the client to the browser (fetch,
 * localStorage, Socket.IO, online/offline) and mounts the view. Plain ES2019
 * files, no build step, no inline script and no eval, so a page with
 * `script-src 'self'` (or the gateway's origin) keeps working. The Socket.IO client
 * (vendor/socket.io.min.js) is loaded only when a live connection is needed.
 */
(() => {
  "use strict";

  if (window.ChatWidget && window.ChatWidget.mounted) return;

  const script = document.currentScript || document.querySelector("script[src*='chat-widget.js']");
  const config = (script && script.dataset) || {};
  const scriptUrl = new URL((script && script.src) || "static/widget/chat-widget.js", location.href);
  const assetBase = new URL(".", scriptUrl).href;
  const assetQuery = scriptUrl.search;
  const API_BASE = (
    config.api ||
    scriptUrl.href.replace(/[?#].*$/, "").replace(/\/static\/widget\/[^/]*$/, "") ||
    location.origin
  ).replace(/\/+$/, "");

  function load(tag, attrs) {
    return new Promise((resolve) => {
      const node = document.createElement(tag);
      for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
      node.addEventListener("load", () => resolve(true));
      node.addEventListener("error", () => resolve(false));
      document.head.append(node);
    });
  }

  const loadScript = (name) => load("script", { src: `${assetBase}${name}${assetQuery}`, async: "" });

  /**
   * The vendored Socket.IO client, once, on first use. It is a UMD bundle: an AMD loader
   * on the host page would swallow it, and it sets window.io, which may be the page's own.
   */
  let socketIo = null;
  function loadSocketIo() {
    if (!socketIo) {
      const hadIo = Object.prototype.hasOwnProperty.call(window, "io");
      const pageIo = window.io;
      const amd = typeof window.define === "function" && window.define.amd ? window.define : null;
      if (amd) window.define = undefined;
      socketIo = loadScript("vendor/socket.io.min.js").then((ok) => {
        if (amd) window.define = amd;
        const io = window.io;
        if (hadIo) window.io = pageIo;
        else delete window.io;
        if (!ok || typeof io !== "function") {
          socketIo = null; // try again on the next connection; meanwhile the client long-polls
          throw new Error("the Socket.IO client could not be loaded");
        }
        return io;
      });
    }
    return socketIo;
  }

  function area(name) {
    try {
      return window[name]; // throws where storage is disabled (sandboxed frames, some privacy modes)
    } catch (_) {
      return null;
    }
  }

  const publicApi = { mounted: true, version: "2.0.0", apiBase: API_BASE, ready: null };
  window.ChatWidget = publicApi;

  const parts = (window.ChatWidgetParts = window.ChatWidgetParts || {});
  const cssLoaded = document.querySelector("link[data-vm-widget-css]")
    ? Promise.resolve(true)
    : load("link", { rel: "stylesheet", href: `${assetBase}widget.css${assetQuery}`, "data-vm-widget-css": "" });
  const stringsLoaded = window.ChatWidgetI18n ? Promise.resolve(true) : loadScript("i18n.js");
  const clientLoaded = parts.client ? Promise.resolve(true) : loadScript("client.js");
  const viewLoaded = parts.view ? Promise.resolve(true) : loadScript("view.js");
  // The shop's name, colours, greeting and languages, and whether this page may embed the widget.
  // Kept for 10 minutes once this page may embed it, so a returning visitor makes no request;
  // without an answer (gateway down) the widget still mounts, with neutral looks.
  const SHOP_KEY = `chat-widget-shop:${API_BASE}`; // public facts, not the conversation: kept after "end chat"
  const SHOP_TTL_MS = 10 * 60 * 1000;
  function rememberedShop() {
    try {
      const kept = JSON.parse(area("localStorage").getItem(SHOP_KEY) || "null");
      return kept && Date.now() - kept.at < SHOP_TTL_MS ? kept.shop : null;
    } catch (_) {
      return null;
    }
  }
  function rememberShop(shop) {
    try {
      if (shop && shop.embedding && shop.embedding.allowed) {
        area("localStorage").setItem(SHOP_KEY, JSON.stringify({ at: Date.now(), shop }));
      }
    } catch (_) {
      // storage disabled or full: ask again next time
    }
    return shop;
  }
  const remembered = rememberedShop();
  const shopLoaded = remembered
    ? Promise.resolve(remembered)
    : window
        .fetch(`${API_BASE}/api/shop`, { credentials: "omit", cache: "no-store" })
        .then((response) => (response.ok ? response.json() : null))
        .then(rememberShop)
        .catch(() => null);
  const domReady =
    document.readyState === "loading"
      ? new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }))
      : Promise.resolve();

  publicApi.ready = Promise.all([cssLoaded, stringsLoaded, clientLoaded, viewLoaded, domReady, shopLoaded]).then((loaded) => {
    const shop = loaded[5];
    if (!parts.client || !parts.view) throw new Error("chat widget: client.js or view.js failed to load");
    const { createClient, jsonStore } = parts.client;
    const client = createClient({
      apiBase: API_BASE,
      fetch: window.fetch.bind(window),
      storage: area("localStorage"),
      loadSocketIo,
      isOnline: () => navigator.onLine !== false,
    });
    window.addEventListener("online", () => client.networkChanged(true));
    window.addEventListener("offline", () => client.networkChanged(false));
    const controls = parts.view.mountView({
      client,
      strings: window.ChatWidgetI18n || { en: {} },
      config,
      local: jsonStore(area("localStorage")),
      perTab: jsonStore(area("sessionStorage")),
      shop,
      apiBase: API_BASE,
    });
    publicApi.shop = shop;
    publicApi.renderMarkdown = parts.view.renderMarkdown;
    Object.defineProperties(publicApi, Object.getOwnPropertyDescriptors(controls));
    document.dispatchEvent(new CustomEvent("chat-widget:ready"));
    return publicApi;
  });
})();
