/* Agent console helpers: CSRF-aware JSON requests, DOM building with textContent only,
   and times in the shop's time zone (settings.yml handoff.timezone) and the agent's locale. */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');
  var zone = document.body.dataset.timezone || undefined;
  // The agent's console language (stored on the agent), and the strings of this page's scripts in it.
  var locale = document.documentElement.lang || navigator.language || "en";
  var catalogNode = document.getElementById("i18n-catalog");
  var catalog = catalogNode ? JSON.parse(catalogNode.textContent) : {};

  /** The translation of an English text; {name} placeholders filled from values. */
  function t(text, values) {
    var out = Object.prototype.hasOwnProperty.call(catalog, text) ? catalog[text] : text;
    return values ? out.replace(/\{(\w+)\}/g, function (all, key) { return key in values ? String(values[key]) : all; }) : out;
  }
  var numberFormat = new Intl.NumberFormat(locale);
  var formatter;
  try {
    formatter = new Intl.DateTimeFormat(locale, {
      timeZone: zone, year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", timeZoneName: "short",
    });
  } catch (err) {  // an unknown zone in settings: the agent's own zone, still their locale
    formatter = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function request(method, url, body) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
    if (method !== "GET") headers["X-CSRFToken"] = meta ? meta.content : "";
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response = await fetch(url, init);
    if (response.status === 401) {
      window.location.assign("/agent/login?next=" + encodeURIComponent(window.location.pathname));
      throw new Error("login required");
    }
    var data;
    try {
      data = await response.json();
    } catch (err) {
      data = { error: t("Unexpected answer from the server ({status}).", { status: response.status }) };
    }
    return { ok: response.ok, status: response.status, data: data || {} };
  }

  function flash(text, kind) {
    var area = document.getElementById("flash");
    if (!area) return;
    area.replaceChildren(el("p", "flash flash-" + (kind || "info"), text));
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  function localTime(iso) {
    var date = new Date(iso);
    if (!iso || isNaN(date.getTime())) return iso || "";
    return formatter.format(date);
  }

  function localizeTimes(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (node) {
      if (node.getAttribute("datetime")) node.textContent = localTime(node.getAttribute("datetime"));
    });
  }

  function timeNode(iso) {
    var node = el("time", null, localTime(iso));
    if (iso) node.setAttribute("datetime", iso);
    return node;
  }

  function pageState() {
    var node = document.getElementById("page-state");
    return node ? JSON.parse(node.textContent) : {};
  }

  function typingInto(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  window.VMAgent = {
    el: el,
    t: t,
    locale: locale,
    number: function (value) { return numberFormat.format(value); },
    request: request,
    flash: flash,
    duration: duration,
    localTime: localTime,
    timeNode: timeNode,
    localizeTimes: localizeTimes,
    pageState: pageState,
    typingInto: typingInto,
    sleep: function (ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); },
  };

  document.addEventListener("DOMContentLoaded", function () { localizeTimes(document); });
})();
