/* Agent console helpers: CSRF-aware JSON requests and DOM building with textContent only. */
(function () {
  "use strict";

  var meta = document.querySelector('meta[name="csrf-token"]');

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
      data = { error: "Unexpected answer from the server (" + response.status + ")." };
    }
    return { ok: response.ok, status: response.status, data: data || {} };
  }

  function flash(text, kind) {
    var area = document.getElementById("flash");
    if (!area) return;
    var p = el("p", "flash flash-" + (kind || "info"), text);
    area.replaceChildren(p);
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    if (seconds < 60) return seconds + " s";
    if (seconds < 3600) return Math.floor(seconds / 60) + " min";
    return Math.floor(seconds / 3600) + " h " + Math.floor((seconds % 3600) / 60) + " min";
  }

  function localTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso || "";
    return date.toLocaleString();
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

  function csrfInput() {
    var input = el("input");
    input.type = "hidden";
    input.name = "csrf_token";
    input.value = meta ? meta.content : "";
    return input;
  }

  window.VMAgent = {
    el: el,
    request: request,
    flash: flash,
    duration: duration,
    timeNode: timeNode,
    csrfInput: csrfInput,
    localizeTimes: localizeTimes,
    sleep: function (ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); },
  };

  document.addEventListener("DOMContentLoaded", function () { localizeTimes(document); });
})();
