/*
 * VoltMart chat widget. Embed with one tag:
 *   <script src="https://support.example/static/widget/voltmart-widget.js" defer
 *           data-lang="sk" data-open="false" data-theme="dark"></script>
 * data-lang (en|ru|sk|hu, default: navigator.language), data-open (true|false),
 * data-theme (dark|light, default: prefers-color-scheme), data-api (gateway URL,
 * default: derived from this script's src).
 *
 * Plain ES2019, no framework, no build step. Every piece of text from the
 * network is put into the page with textContent / Text nodes, never innerHTML.
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

  const LANGS = ["en", "ru", "sk", "hu"];
  const MAX_CHARS = 2000;
  const POLL_WAIT = 25;
  const HISTORY_PAGE = 200;
  const KEY = "voltmart-widget:";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const RATING = /^\/rate\s*\{\s*"rating"\s*:\s*([1-5])\s*\}\s*$/;

  // ------------------------------------------------------------------
  // Small helpers
  // ------------------------------------------------------------------
  const storage = (area) => ({
    get(key) {
      try {
        const raw = area().getItem(KEY + key);
        return raw == null ? null : JSON.parse(raw);
      } catch (_) {
        return null;
      }
    },
    set(key, value) {
      try {
        area().setItem(KEY + key, JSON.stringify(value));
      } catch (_) {
        /* storage full or disabled: the widget still works for this page view */
      }
    },
    remove(key) {
      try {
        area().removeItem(KEY + key);
      } catch (_) {
        /* ignore */
      }
    },
  });
  const local = storage(() => window.localStorage);
  const perTab = storage(() => window.sessionStorage);

  /** el("div", {class: "x", "aria-label": "y", onclick: fn}, child, "text") */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value == null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    node.append(...children.filter((child) => child != null));
    return node;
  }

  const ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6.5a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01zm5 0a1.5 1.5 0 1 0 0 .01z",
    close: "M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z",
    send: "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z",
    bolt: "M13 2 4.5 13.5H11L10 22l8.5-11.5H12z",
    chevron: "M7.4 8.6 12 13.2l4.6-4.6L18 10l-6 6-6-6z",
  };

  function icon(name) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "vm-icon");
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    svg.append(path);
    return svg;
  }

  function submitForm(form) {
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
  }

  const randomId = (bytes = 12) =>
    Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

  // ------------------------------------------------------------------
  // Safe Markdown: a tiny renderer that only ever creates DOM nodes.
  // Supports paragraphs, line breaks, **bold**, *italic*, "- " bullet lists,
  // "1. " numbered lists, [text](http(s) url) and bare http(s) URLs.
  // Everything else, including HTML and non-http(s) links, stays plain text.
  // ------------------------------------------------------------------
  const INLINE =
    /\[([^\[\]\n]+)\]\(([^()\s]+)\)|\*\*(\S(?:.*?\S)?)\*\*|\*([^\s*](?:[^*]*?[^\s*])?)\*|(https?:\/\/[^\s<>"]*[^\s<>"'.,;:!?)\]])/g;

  function safeUrl(raw) {
    if (!/^https?:\/\//i.test(raw)) return null;
    try {
      const url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function link(href, parent) {
    const anchor = el("a", { href, target: "_blank", rel: "noopener noreferrer" });
    parent.append(anchor);
    return anchor;
  }

  function renderInline(text, parent, allowLinks = true) {
    const pattern = new RegExp(INLINE.source, "g");
    let last = 0;
    let match;
    while ((match = pattern.exec(text))) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      const [whole, linkText, linkUrl, bold, italic, bare] = match;
      if (linkText !== undefined) {
        const href = allowLinks && safeUrl(linkUrl);
        if (href) renderInline(linkText, link(href, parent), false);
        else parent.append(whole);
      } else if (bold !== undefined) {
        renderInline(bold, parent.appendChild(el("strong")), allowLinks);
      } else if (italic !== undefined) {
        renderInline(italic, parent.appendChild(el("em")), allowLinks);
      } else {
        const href = allowLinks && safeUrl(bare);
        if (href) link(href, parent).textContent = bare;
        else parent.append(whole);
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function renderMarkdown(source) {
    const fragment = document.createDocumentFragment();
    const lines = String(source == null ? "" : source).replace(/\r\n?/g, "\n").split("\n");
    let paragraph = null;
    let list = null;
    for (const line of lines) {
      if (!line.trim()) {
        paragraph = null;
        list = null;
        continue;
      }
      const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      const numbered = !bullet && /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        const type = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== type) {
          list = el(type);
          if (numbered && numbered[1] !== "1") list.start = Number(numbered[1]);
          fragment.append(list);
        }
        paragraph = null;
        renderInline(bullet ? bullet[1] : numbered[2], list.appendChild(el("li")));
        continue;
      }
      list = null;
      if (paragraph) paragraph.append(el("br"));
      else paragraph = fragment.appendChild(el("p"));
      renderInline(line, paragraph);
    }
    return fragment;
  }

  // ------------------------------------------------------------------
  // Widget
  // ------------------------------------------------------------------
  function pickLanguage(strings) {
    const wanted = [config.lang, ...(navigator.languages || []), navigator.language];
    for (const tag of wanted) {
      const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
      if (LANGS.includes(base) && strings[base]) return base;
    }
    return "en";
  }

  function mount(allStrings) {
    const lang = pickLanguage(allStrings);
    const strings = Object.assign({}, allStrings.en, allStrings[lang]);
    const plural = new Intl.PluralRules(lang);
    const t = (key, vars) => {
      let text = strings[key];
      if (text && typeof text === "object") text = text[plural.select(vars.n)] || text.other;
      text = text == null ? key : String(text);
      return text.replace(/\{(\w+)\}/g, (_, name) => (vars && name in vars ? String(vars[name]) : ""));
    };
    const timeFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });

    // --- state ---------------------------------------------------------
    let sessionId = local.get("session");
    let mode = "bot";
    let lastId = 0;
    let isOpen = false;
    let polling = false;
    let historyLoaded = !sessionId;
    let connection = "ok";
    let inflight = null;
    let retryTimer = 0;
    let sendFailures = 0;
    let deferred = [];
    const known = new Map(); // message id -> list item
    const payloadTitles = new Map(); // button payload -> title, to show titles instead of payloads
    const wakers = new Set();
    /** Messages not yet answered by the gateway: {clientId, text, display, rating, id, status}. */
    const queue = (local.get("pending") || []).filter((item) => item && item.clientId && item.text);

    // --- DOM -------------------------------------------------------------
    const uid = randomId(4);
    const root = el("div", { class: "vm-root", lang, "data-vm-widget": "" });
    if (config.theme === "dark" || config.theme === "light") root.dataset.theme = config.theme;

    const badge = el("span", { class: "vm-badge", "data-testid": "vm-badge", "aria-hidden": "true", hidden: true });
    const launcher = el(
      "button",
      {
        type: "button",
        class: "vm-launcher",
        "data-testid": "vm-launcher",
        "aria-label": t("launcher"),
        "aria-expanded": "false",
        "aria-controls": `vm-panel-${uid}`,
        onclick: () => (isOpen ? close() : open(true)),
      },
      el("span", { class: "vm-launcher-open" }, icon("chat")),
      el("span", { class: "vm-launcher-close" }, icon("chevron")),
      badge
    );

    const subtitle = el("p", { class: "vm-subtitle", text: t("subtitleBot") });
    const closeButton = el(
      "button",
      { type: "button", class: "vm-close", "aria-label": t("close"), title: t("close"), onclick: () => close() },
      icon("close")
    );
    // "End chat": on a shared computer the next person must not inherit the chat or its verified email.
    const endButton = el("button", {
      type: "button",
      class: "vm-end",
      "data-testid": "vm-end",
      title: t("endChatHint"),
      text: t("endChat"),
      onclick: () => endChat(),
    });
    const header = el(
      "div",
      { class: "vm-header" },
      el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt")),
      el(
        "div",
        { class: "vm-heading" },
        el("h2", { class: "vm-title", id: `vm-title-${uid}`, text: t("title") }),
        subtitle
      ),
      endButton,
      closeButton
    );
    const notice = el("div", { class: "vm-notice", role: "status", hidden: true });
    const info = el("p", { class: "vm-info", "data-testid": "vm-info", role: "status", hidden: true });
    const typing = el(
      "li",
      { class: "vm-typing", hidden: true },
      el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt")),
      el(
        "span",
        { class: "vm-typing-bubble" },
        el("span", { class: "vm-dot" }),
        el("span", { class: "vm-dot" }),
        el("span", { class: "vm-dot" }),
        el("span", { class: "vm-sr", text: t("typing") })
      )
    );
    const empty = el(
      "li",
      { class: "vm-empty" },
      el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt")),
      el("p", { text: t("welcome") })
    );
    const log = el("ol", { class: "vm-log", "aria-label": t("conversation"), tabindex: "-1" }, empty, typing);
    const live = el("div", { class: "vm-sr", "aria-live": "polite", "aria-atomic": "false", "data-vm-live": "" });

    const feedbackBox = el("textarea", {
      class: "vm-feedback-input",
      "data-testid": "vm-feedback",
      id: `vm-feedback-${uid}`,
      rows: "2",
      maxlength: String(MAX_CHARS),
      "aria-label": t("feedbackLabel"),
      placeholder: t("feedbackPlaceholder"),
    });
    const feedbackStatus = el("p", { class: "vm-feedback-status", role: "status" });
    const feedbackSend = el("button", {
      type: "submit",
      class: "vm-button vm-button-primary",
      "data-testid": "vm-feedback-send",
      text: t("feedbackSend"),
    });
    const feedbackSkip = el("button", {
      type: "button",
      class: "vm-button",
      text: t("feedbackSkip"),
      onclick: () => hideFeedback(true),
    });
    const feedbackForm = el(
      "form",
      { class: "vm-feedback", hidden: true, novalidate: true, onsubmit: (event) => submitFeedback(event) },
      el("label", { class: "vm-feedback-prompt", for: `vm-feedback-${uid}`, text: t("feedbackPrompt") }),
      feedbackBox,
      el("div", { class: "vm-feedback-actions" }, feedbackSkip, feedbackSend),
      feedbackStatus
    );
    const feedbackDone = el("p", { class: "vm-feedback-done", role: "status", hidden: true });

    const error = el("p", { class: "vm-error", role: "alert", hidden: true });
    const counter = el("span", { class: "vm-counter", hidden: true });
    const input = el("textarea", {
      class: "vm-input",
      "data-testid": "vm-input",
      rows: "1",
      "aria-label": t("inputLabel"),
      placeholder: t("placeholder"),
      autocomplete: "off",
    });
    const sendButton = el(
      "button",
      { type: "submit", class: "vm-send", "data-testid": "vm-send", "aria-label": t("send"), title: t("send") },
      icon("send")
    );
    const composer = el(
      "form",
      { class: "vm-composer", novalidate: true, onsubmit: (event) => submitComposer(event) },
      input,
      sendButton
    );
    const panel = el(
      "div",
      {
        class: "vm-panel",
        id: `vm-panel-${uid}`,
        "data-testid": "vm-panel",
        role: "dialog",
        "aria-modal": "true",
        "aria-labelledby": `vm-title-${uid}`,
        tabindex: "-1",
        hidden: true,
      },
      header,
      notice,
      info,
      log,
      feedbackForm,
      feedbackDone,
      error,
      counter,
      composer,
      live
    );
    root.append(panel, launcher);
    document.body.append(root);

    // --- open / close, focus management ------------------------------
    function open(focusInput) {
      isOpen = true;
      panel.hidden = false;
      root.classList.add("vm-open");
      launcher.setAttribute("aria-expanded", "true");
      perTab.set("open", true);
      markSeen();
      scrollToEnd(true);
      if (focusInput) {
        // On touch screens focusing the textarea would pop the keyboard over the conversation.
        const touch = window.matchMedia && window.matchMedia("(pointer: coarse)").matches;
        (touch ? panel : input).focus({ preventScroll: true });
      }
    }

    function close() {
      const hadFocus = panel.contains(document.activeElement);
      isOpen = false;
      panel.hidden = true;
      root.classList.remove("vm-open");
      launcher.setAttribute("aria-expanded", "false");
      perTab.set("open", false);
      updateBadge();
      if (hadFocus || document.activeElement === document.body) launcher.focus();
    }

    function focusables() {
      return Array.from(
        panel.querySelectorAll("button, textarea, input, select, a[href], [tabindex]:not([tabindex='-1'])")
      ).filter((node) => !node.disabled && !node.closest("[hidden]") && node.getClientRects().length > 0);
    }

    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        close();
        launcher.focus();
        return;
      }
      if (event.key !== "Tab") return;
      const items = focusables();
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      const current = document.activeElement;
      const outside = !panel.contains(current) || current === panel || current === log;
      if (event.shiftKey && (current === first || outside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (current === last || outside)) {
        event.preventDefault();
        first.focus();
      }
    });

    // --- unread badge --------------------------------------------------
    const incoming = (item) => item.dataset.vmSender === "bot" || item.dataset.vmSender === "agent";

    function markSeen() {
      if (lastId > (local.get("seen") || 0)) local.set("seen", lastId);
      updateBadge();
    }

    function updateBadge() {
      const seen = local.get("seen") || 0;
      let unread = 0;
      if (!isOpen) {
        for (const [id, item] of known) if (id > seen && incoming(item)) unread += 1;
      }
      badge.hidden = unread === 0;
      badge.textContent = unread > 9 ? "9+" : String(unread);
      const label = isOpen ? t("launcherClose") : t("launcher");
      launcher.setAttribute("aria-label", unread ? `${label} (${t("unread", { n: unread })})` : label);
    }

    // --- rendering -----------------------------------------------------
    function isNearEnd() {
      return log.scrollHeight - log.scrollTop - log.clientHeight < 80;
    }

    function scrollToEnd(force) {
      if (force || isNearEnd()) {
        requestAnimationFrame(() => {
          log.scrollTop = log.scrollHeight;
        });
      }
    }

    function plainText(text) {
      return renderMarkdown(text).textContent.replace(/\s+/g, " ").trim();
    }

    function announce(text) {
      const line = el("p", { text });
      live.append(line);
      while (live.childNodes.length > 4) live.firstChild.remove();
    }

    function formatTime(iso) {
      const date = new Date(String(iso || "").replace(/(\.\d{3})\d+/, "$1"));
      return Number.isNaN(date.getTime()) ? "" : timeFormat.format(date);
    }

    function initials(name) {
      const parts = String(name || "").trim().split(/\s+/).filter(Boolean);
      return (parts.slice(0, 2).map((part) => Array.from(part)[0]).join("") || "?").toUpperCase();
    }

    /** Insert a list item at its place: confirmed messages by id, pending ones after them. */
    function place(item) {
      const id = Number(item.dataset.vmId || 0);
      let before = typing;
      if (id) {
        for (const other of log.children) {
          if (other === item || !other.classList.contains("vm-item")) continue;
          const otherId = Number(other.dataset.vmId || 0);
          if (!otherId || otherId > id) {
            before = other;
            break;
          }
        }
      }
      if (item.nextSibling !== before || item.parentNode !== log) log.insertBefore(item, before);
    }

    function customerItem(display, raw) {
      const bubble = el("div", {
        class: "vm-bubble vm-bubble-customer",
        "data-testid": "vm-message",
        "data-sender": "customer",
        text: display,
      });
      const status = el("div", { class: "vm-status", hidden: true });
      const item = el(
        "li",
        { class: "vm-item vm-item-customer", "data-vm-sender": "customer" },
        el("span", { class: "vm-sr", text: `${t("you")}:` }),
        bubble,
        status
      );
      item.vmStatus = status;
      item.vmRaw = raw;
      return item;
    }

    function renderMessage(message, announceIt) {
      const sender = ["customer", "bot", "agent", "system"].includes(message.sender) ? message.sender : "system";
      let item;
      if (sender === "customer") {
        item = customerItem(payloadTitles.get(message.text) || message.text, message.text);
      } else if (sender === "system") {
        item = el(
          "li",
          { class: "vm-item vm-item-system", "data-vm-sender": "system" },
          el("div", { class: "vm-system", "data-testid": "vm-message", "data-sender": "system", text: message.text })
        );
        if (announceIt) announce(message.text);
      } else {
        const isAgent = sender === "agent";
        const name = isAgent ? String(message.agent_name || t("agent")) : t("botName");
        const avatar = isAgent
          ? el("span", { class: "vm-avatar vm-avatar-agent", "aria-hidden": "true", text: initials(name) })
          : el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt"));
        const meta = el(
          "div",
          { class: "vm-meta" },
          el("span", { class: "vm-name", text: name }),
          isAgent ? el("span", { class: "vm-role", text: t("agent") }) : null,
          el("time", { class: "vm-time", datetime: message.created_at || null, text: formatTime(message.created_at) })
        );
        const bubble = el("div", { class: `vm-bubble vm-bubble-${sender}` }, renderMarkdown(message.text));
        const body = el("div", { class: "vm-body" }, meta, bubble);
        const buttons = Array.isArray(message.buttons) ? message.buttons.filter((b) => b && b.payload) : [];
        if (buttons.length) {
          const group = el("div", { class: "vm-replies", role: "group", "aria-label": t("quickReplies") });
          for (const button of buttons) {
            const title = String(button.title || button.payload);
            const payload = String(button.payload);
            payloadTitles.set(payload, title);
            const rating = RATING.exec(payload);
            group.append(
              el("button", {
                type: "button",
                class: rating ? "vm-qr vm-qr-rating" : "vm-qr",
                "data-testid": "vm-quick-reply",
                "data-payload": payload,
                "aria-label": rating ? t("rate", { n: rating[1] }) : null,
                text: title,
                onclick: (event) => {
                  event.currentTarget.classList.add("vm-chosen");
                  send(payload, title);
                },
              })
            );
          }
          body.append(group);
        }
        item = el(
          "li",
          { class: `vm-item vm-item-${sender}`, "data-vm-sender": sender, "data-vm-agent": isAgent ? name : null },
          el(
            "div",
            {
              class: "vm-message",
              "data-testid": "vm-message",
              "data-sender": sender,
              "data-id": String(message.id),
            },
            avatar,
            body
          )
        );
        if (announceIt) announce(`${isAgent ? `${name} (${t("agent")})` : name}: ${plainText(message.text)}`);
      }
      setId(item, message.id);
      return item;
    }

    function setId(item, id) {
      item.dataset.vmId = String(id);
      const message = item.querySelector("[data-testid='vm-message']");
      if (message) message.dataset.id = String(id);
      known.set(id, item);
      place(item);
    }

    /** Answered buttons are disabled (the chosen one marked); messages from one sender are grouped. */
    function refresh() {
      const items = Array.from(log.children).filter((node) => node.classList.contains("vm-item"));
      let offered = null;
      for (const item of items) {
        if (item.dataset.vmSender === "customer") {
          for (const button of offered || []) {
            if (button.dataset.payload === item.vmRaw) button.classList.add("vm-chosen");
          }
          offered = null;
        } else if (item.querySelector(".vm-qr")) {
          offered = item.querySelectorAll(".vm-qr");
        }
      }
      let answered = false;
      for (let index = items.length - 1; index >= 0; index -= 1) {
        const item = items[index];
        if (item.dataset.vmSender === "customer") answered = true;
        for (const button of item.querySelectorAll(".vm-qr")) {
          if (answered && button === document.activeElement) input.focus({ preventScroll: true });
          button.disabled = answered;
        }
      }
      empty.hidden = items.length > 0 || !historyLoaded;
      let previous = "";
      for (const item of items) {
        const key = `${item.dataset.vmSender}|${item.dataset.vmAgent || ""}`;
        item.classList.toggle("vm-grouped", key === previous && key !== "system|");
        previous = key;
      }
      updateBadge();
      if (isOpen) markSeen();
    }

    /** Messages from the gateway (chat response or poll), deduplicated by id. */
    function receive(messages, { history = false, fromPoll = false } = {}) {
      if (!Array.isArray(messages) || !messages.length) return;
      if (fromPoll && inflight && !inflight.id) {
        // Our own message may be among them, but we only learn its id from the chat response.
        deferred.push(...messages);
        lastId = Math.max(lastId, ...messages.map((m) => Number(m.id) || 0));
        return;
      }
      const stick = isNearEnd();
      for (const message of messages) {
        const id = Number(message && message.id);
        if (!id) continue;
        lastId = Math.max(lastId, id);
        if (known.has(id)) continue;
        if (message.sender === "customer") {
          const mine = queue.find((entry) => !entry.id && entry.text.trim() === message.text);
          if (mine) {
            confirm(mine, id);
            continue;
          }
        }
        renderMessage(message, !history);
        if (message.sender !== "customer") typing.hidden = true;
      }
      refresh();
      scrollToEnd(stick || history);
    }

    function flushDeferred() {
      const pending = deferred;
      deferred = [];
      receive(pending);
    }

    // --- sending -------------------------------------------------------
    function saveQueue() {
      local.set(
        "pending",
        queue.map(({ clientId, text, display, rating, id }) => ({ clientId, text, display, rating, id }))
      );
    }

    function showStatus(entry, key) {
      if (!entry.item) return;
      const status = entry.item.vmStatus;
      status.replaceChildren();
      entry.item.classList.toggle("vm-pending", !entry.id || key !== null);
      if (!key) {
        status.hidden = true;
        return;
      }
      status.hidden = false;
      status.append(
        el("span", { text: t(key) }),
        " ",
        el("button", {
          type: "button",
          class: "vm-link-button",
          text: t("retry"),
          onclick: () => {
            sendFailures = 0;
            pump();
          },
        })
      );
      announce(t(key));
    }

    function confirm(entry, id) {
      entry.id = id;
      saveQueue();
      const existing = known.get(id);
      if (existing && existing !== entry.item) {
        entry.item.remove();
        entry.item = existing;
      } else {
        setId(entry.item, id);
      }
      entry.item.classList.remove("vm-pending");
    }

    function showError(key, vars) {
      error.textContent = t(key, vars);
      error.hidden = false;
    }

    function clearError() {
      error.hidden = true;
      error.textContent = "";
    }

    function send(text, display, rating) {
      info.hidden = true;
      const entry = {
        clientId: randomId(),
        text,
        display: display || text,
        rating: rating || (RATING.exec(text) || [])[1] || null,
        id: 0,
      };
      payloadTitles.set(text, entry.display);
      entry.item = customerItem(entry.display, text);
      entry.item.classList.add("vm-pending");
      log.insertBefore(entry.item, typing);
      queue.push(entry);
      saveQueue();
      clearError();
      hideFeedback(false);
      refresh();
      scrollToEnd(true);
      pump();
    }

    function submitComposer(event) {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) {
        if (event.type === "submit" && event.submitter === sendButton) showError("errEmpty");
        input.focus();
        return;
      }
      if (text.length > MAX_CHARS) {
        showError("errTooLong", { max: MAX_CHARS });
        return;
      }
      input.value = "";
      autosize();
      send(text, text);
      input.focus({ preventScroll: true });
    }

    function schedule(delay) {
      clearTimeout(retryTimer);
      retryTimer = setTimeout(pump, delay);
    }

    async function ensureSession() {
      if (sessionId) return sessionId;
      const response = await api("POST", "/api/session", {});
      if (!response.ok || !response.data.session_id) throw new Error(`session: HTTP ${response.status}`);
      sessionId = response.data.session_id;
      local.set("session", sessionId);
      historyLoaded = true;
      poll();
      return sessionId;
    }

    async function pump() {
      clearTimeout(retryTimer);
      if (inflight || !queue.length || !historyLoaded) return;
      const entry = queue[0];
      inflight = entry;
      typing.hidden = mode !== "bot";
      scrollToEnd(false);
      let outcome = "retry";
      let status = null;
      try {
        await ensureSession();
        const response = await api(
          "POST",
          "/api/chat",
          { session_id: sessionId, text: entry.text, client_id: entry.clientId },
          70000
        );
        if (!queue.includes(entry)) {
          inflight = null; // "end chat" while this was on its way: nothing of it is shown
          typing.hidden = true;
          return;
        }
        const messages = Array.isArray(response.data.messages) ? response.data.messages : [];
        const own = messages.find((m) => m && m.sender === "customer");
        if (own && own.id) confirm(entry, Number(own.id));
        setConnection("ok");
        if (response.ok) {
          outcome = "done";
          if (response.data.mode) setMode(response.data.mode);
        } else if (response.status === 429) {
          status = "errRateLimited";
        } else if ((response.status === 404 || response.status === 410) && !entry.restarted) {
          outcome = "restart"; // the chat is unknown, expired or ended: this message starts a new one
        } else if (response.status >= 400 && response.status < 500) {
          outcome = "rejected"; // refused for good: retrying would block every later message
          showError(response.status === 413 ? "errTooLong" : "errInvalid", { max: MAX_CHARS });
        } else if (response.status === 503) {
          status = "errRestarting";
        } else {
          status = "errServer";
        }
        inflight = null;
        receive(messages);
      } catch (_) {
        inflight = null;
        status = "errNetwork";
        setConnection(navigator.onLine === false ? "offline" : "reconnecting");
      }
      typing.hidden = true;
      if (outcome === "done") {
        queue.shift();
        sendFailures = 0;
        showStatus(entry, null);
        if (entry.rating) showFeedback(Number(entry.rating));
      } else if (outcome === "rejected") {
        queue.shift();
        entry.item.remove();
        if (!input.value && entry.display === entry.text) input.value = entry.text;
        autosize();
      } else if (outcome === "restart") {
        entry.restarted = true;
        forgetConversation({ keepQueue: true });
        showInfo("chatExpired");
      } else {
        sendFailures += 1;
        showStatus(entry, status);
      }
      saveQueue();
      flushDeferred();
      refresh();
      if (outcome === "restart") {
        pump();
      } else if (outcome === "retry") {
        const base = status === "errRateLimited" ? 8000 : 2000;
        schedule(Math.min(30000, base * 2 ** Math.min(sendFailures - 1, 4)) * (0.8 + Math.random() * 0.4));
      } else if (queue.length) {
        pump();
      }
    }

    // --- receiving: history and long-poll ------------------------------
    async function api(method, path, body, timeout = 20000) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeout);
      try {
        const response = await fetch(API_BASE + path, {
          method,
          headers: body ? { "Content-Type": "application/json" } : undefined,
          body: body ? JSON.stringify(body) : undefined,
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
        clearTimeout(timer);
      }
    }

    function sleep(ms) {
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        wakers.add(done);
      });
    }

    function wake() {
      for (const done of Array.from(wakers)) done();
    }

    function setConnection(state) {
      if (state === connection) return;
      const wasDown = connection !== "ok";
      connection = state;
      notice.hidden = state === "ok";
      notice.textContent = state === "ok" ? "" : t(state === "offline" ? "offline" : "reconnecting");
      root.classList.toggle("vm-degraded", state !== "ok");
      if (state === "ok" && wasDown) {
        sendFailures = 0;
        pump();
      }
    }

    function showInfo(key) {
      info.textContent = t(key);
      info.hidden = false;
      announce(info.textContent);
    }

    /** Drop the chat from this browser: its id, its messages and (unless kept) unsent ones. */
    function forgetConversation({ keepQueue = false } = {}) {
      sessionId = null;
      local.remove("session");
      local.remove("seen");
      lastId = 0;
      deferred = [];
      for (const item of Array.from(log.querySelectorAll(".vm-item"))) {
        if (!keepQueue || !queue.some((entry) => entry.item === item)) item.remove();
      }
      known.clear();
      payloadTitles.clear();
      for (const entry of queue) {
        entry.id = 0;
        payloadTitles.set(entry.text, entry.display);
      }
      if (!keepQueue) queue.length = 0;
      saveQueue();
      setMode("bot");
      hideFeedback(false);
      clearError();
      historyLoaded = true;
      refresh();
    }

    async function endChat() {
      const ending = sessionId;
      forgetConversation();
      showInfo("chatEnded");
      input.focus({ preventScroll: true });
      if (!ending) return;
      try {
        await api("POST", "/api/session/end", { session_id: ending });
      } catch (_) {
        // Offline: the id is gone from this browser, and the server expires it when idle.
      }
    }

    function setMode(value) {
      if (value !== "bot" && value !== "handoff") return;
      mode = value;
      subtitle.textContent = t(value === "handoff" ? "subtitleHandoff" : "subtitleBot");
      root.classList.toggle("vm-handoff", value === "handoff");
    }

    async function poll() {
      if (polling || !sessionId) return;
      polling = true;
      let failures = 0;
      let first = true;
      const polled = sessionId;
      while (sessionId && sessionId === polled) {
        const wait = first ? 0 : POLL_WAIT;
        try {
          const query = `session_id=${encodeURIComponent(sessionId)}&after=${lastId}&wait=${wait}`;
          const response = await api("GET", `/api/messages?${query}`, null, (wait + 15) * 1000);
          if (sessionId !== polled) break; // the chat was ended meanwhile
          if (response.status === 400 || response.status === 404 || response.status === 410) {
            // The stored id is not valid (any more): its history goes, the next message starts afresh.
            forgetConversation({ keepQueue: true });
            if (response.status === 410) showInfo("chatExpired");
            break;
          }
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          failures = 0;
          const messages = response.data.messages || [];
          receive(messages, { history: first, fromPoll: true });
          if (response.data.mode) setMode(response.data.mode);
          setConnection("ok");
          if (first && messages.length >= HISTORY_PAGE) continue;
          if (first) {
            first = false;
            historyLoaded = true;
            refresh();
            scrollToEnd(true);
            pump();
          }
        } catch (_) {
          failures += 1;
          setConnection(navigator.onLine === false ? "offline" : "reconnecting");
          await sleep(Math.min(30000, 1000 * 2 ** Math.min(failures - 1, 5)) * (0.75 + Math.random() * 0.5));
        }
      }
      polling = false;
    }

    window.addEventListener("online", () => {
      wake();
      sendFailures = 0;
      pump();
    });
    window.addEventListener("offline", () => setConnection("offline"));

    // --- feedback (optional comment after a rating) ---------------------
    let feedbackRating = 0;
    let feedbackTimer = 0;

    function showFeedback(rating) {
      feedbackRating = rating;
      clearTimeout(feedbackTimer);
      feedbackDone.hidden = true;
      feedbackStatus.textContent = "";
      feedbackBox.value = "";
      feedbackForm.hidden = false;
      const focusInside = panel.contains(document.activeElement) || document.activeElement === document.body;
      if (isOpen && focusInside) feedbackBox.focus({ preventScroll: true });
    }

    function hideFeedback(returnFocus) {
      if (feedbackForm.hidden) return;
      const hadFocus = feedbackForm.contains(document.activeElement);
      feedbackForm.hidden = true;
      if (returnFocus || hadFocus) input.focus({ preventScroll: true });
    }

    async function submitFeedback(event) {
      event.preventDefault();
      const comment = feedbackBox.value.trim();
      if (!comment) {
        hideFeedback(true);
        return;
      }
      feedbackSend.disabled = true;
      feedbackStatus.textContent = "";
      try {
        const response = await api("POST", "/api/feedback", {
          session_id: sessionId,
          rating: feedbackRating,
          comment,
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        hideFeedback(true);
        feedbackDone.textContent = t("feedbackThanks");
        feedbackDone.hidden = false;
        feedbackTimer = setTimeout(() => {
          feedbackDone.hidden = true;
        }, 6000);
      } catch (_) {
        feedbackStatus.textContent = t("feedbackError");
      } finally {
        feedbackSend.disabled = false;
      }
    }

    feedbackBox.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitForm(feedbackForm);
      }
    });

    // --- composer ------------------------------------------------------
    function autosize() {
      input.style.height = "auto";
      input.style.height = `${Math.min(input.scrollHeight, 120)}px`;
      const length = input.value.length;
      counter.hidden = length < MAX_CHARS - 200;
      counter.textContent = `${length} / ${MAX_CHARS}`;
      counter.classList.toggle("vm-over", length > MAX_CHARS);
    }

    input.addEventListener("input", () => {
      autosize();
      if (!error.hidden) clearError();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitForm(composer);
      }
    });

    // --- start -----------------------------------------------------------
    for (const entry of queue) {
      entry.item = customerItem(entry.display, entry.text);
      entry.item.classList.add("vm-pending");
      log.insertBefore(entry.item, typing);
      payloadTitles.set(entry.text, entry.display);
      if (entry.id) setId(entry.item, entry.id);
    }
    refresh();
    const remembered = perTab.get("open");
    if (remembered === true || (remembered === null && config.open === "true")) open(false);
    updateBadge();
    if (sessionId) poll();
    else pump();

    return {
      open: () => open(true),
      close,
      toggle: () => (isOpen ? close() : open(true)),
      setTheme(theme) {
        if (theme === "dark" || theme === "light") root.dataset.theme = theme;
        else delete root.dataset.theme;
      },
      get lang() {
        return lang;
      },
      get sessionId() {
        return sessionId;
      },
    };
  }

  // ------------------------------------------------------------------
  // Boot: inject widget.css and i18n.js next to this script, then mount.
  // ------------------------------------------------------------------
  function load(tag, attrs) {
    return new Promise((resolve) => {
      const node = el(tag, Object.assign({}, attrs, { onload: () => resolve(true), onerror: () => resolve(false) }));
      document.head.append(node);
    });
  }

  const publicApi = {
    mounted: true,
    version: "1.0.0",
    apiBase: API_BASE,
    renderMarkdown,
    ready: null,
  };
  window.VoltMartWidget = publicApi;

  const cssLoaded = document.querySelector("link[data-vm-widget-css]")
    ? Promise.resolve(true)
    : load("link", { rel: "stylesheet", href: `${assetBase}widget.css${assetQuery}`, "data-vm-widget-css": "" });
  const stringsLoaded = window.VoltMartWidgetI18n
    ? Promise.resolve(true)
    : load("script", { src: `${assetBase}i18n.js${assetQuery}`, async: true });
  const domReady =
    document.readyState === "loading"
      ? new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }))
      : Promise.resolve();

  publicApi.ready = Promise.all([cssLoaded, stringsLoaded, domReady]).then(() => {
    const controls = mount(window.VoltMartWidgetI18n || { en: {} });
    Object.defineProperties(publicApi, Object.getOwnPropertyDescriptors(controls));
    document.dispatchEvent(new CustomEvent("voltmart-widget:ready"));
    return publicApi;
  });
})();
