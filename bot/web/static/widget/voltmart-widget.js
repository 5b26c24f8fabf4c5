/*
 * VoltMart chat widget. Embed with one tag:
 *   <script src="https://support.example/static/widget/voltmart-widget.js" defer
 *           data-lang="sk" data-open="false" data-theme="dark"></script>
 * data-lang (en|ru|sk|hu, default: navigator.language), data-open (true|false),
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

  if (window.VoltMartWidget && window.VoltMartWidget.mounted) return;

  const script = document.currentScript || document.querySelector("script[src*='voltmart-widget.js']");
  const config = (script && script.dataset) || {};
  const scriptUrl = new URL((script && script.src) || "static/widget/voltmart-widget.js", location.href);
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
  window.VoltMartWidget = publicApi;

  const parts = (window.VoltMartWidgetParts = window.VoltMartWidgetParts || {});
  const cssLoaded = document.querySelector("link[data-vm-widget-css]")
    ? Promise.resolve(true)
    : load("link", { rel: "stylesheet", href: `${assetBase}widget.css${assetQuery}`, "data-vm-widget-css": "" });
  const stringsLoaded = window.VoltMartWidgetI18n ? Promise.resolve(true) : loadScript("i18n.js");
  const clientLoaded = parts.client ? Promise.resolve(true) : loadScript("client.js");
  const viewLoaded = parts.view ? Promise.resolve(true) : loadScript("view.js");
  const domReady =
    document.readyState === "loading"
      ? new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }))
      : Promise.resolve();

  publicApi.ready = Promise.all([cssLoaded, stringsLoaded, clientLoaded, viewLoaded, domReady]).then(() => {
    if (!parts.client || !parts.view) throw new Error("VoltMart widget: client.js or view.js failed to load");
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
      strings: window.VoltMartWidgetI18n || { en: {} },
      config,
      local: jsonStore(area("localStorage")),
      perTab: jsonStore(area("sessionStorage")),
    });
    publicApi.renderMarkdown = parts.view.renderMarkdown;
    Object.defineProperties(publicApi, Object.getOwnPropertyDescriptors(controls));
    document.dispatchEvent(new CustomEvent("voltmart-widget:ready"));
    return publicApi;
  });
})();
