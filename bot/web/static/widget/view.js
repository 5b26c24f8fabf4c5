/*
 * The chat widget: the view. It draws the launcher and the panel and turns the
 * headless client's events (client.js) into DOM; it never talks to the network itself.
 *
 * Every piece of text from the network is put into the page with textContent / Text
 * nodes, never innerHTML (see renderMarkdown).
 */
(function (root) {
  "use strict";

  const MAX_CHARS = 2000;
  const MAX_FILE_MB = 10; // settings.yml attachments.max_file_bytes (the gateway decides; this is for the message)
  const SVG_NS = "http://www.w3.org/2000/svg";
  const RATING = /^\/rate\s*\{\s*"rating"\s*:\s*([1-5])\s*\}\s*$/;
  const LANGS = ["en", "ru", "sk", "hu"];
  const FILE_TYPES = "image/jpeg,image/png,image/webp,image/gif,application/pdf";
  // Why the gateway refused a file (its "reason") -> the customer's words.
  const FILE_REFUSED = {
    too_large: "errFileTooLarge",
    unsupported: "errFileType",
    active_content: "errFileActive",
    unreadable: "errFileUnreadable",
    too_many_pixels: "errFilePixels",
    conversation_count: "errFileLimit",
    conversation_bytes: "errFileLimit",
    rate_limited: "errFileRate",
  };
  const RETRY_TEXT = {
    rateLimited: "errRateLimited",
    restarting: "errRestarting",
    network: "errNetwork",
    server: "errServer",
  };

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
    attach:
      "M16.5 6.5v10.2a4.5 4.5 0 0 1-9 0V5.8a3 3 0 0 1 6 0v10a1.5 1.5 0 0 1-3 0V6.5H9v9.3a3 3 0 0 0 6 0v-10a4.5 4.5 0 0 0-9 0v10.9a6 6 0 0 0 12 0V6.5z",
    end: "M5 3h9a2 2 0 0 1 2 2v3h-2V5H5v14h9v-3h2v3a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm12.6 5.4L21.2 12l-3.6 3.6-1.4-1.4 1.2-1.2H10v-2h7.4l-1.2-1.2z",
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

  function pickLanguage(strings, wantedLang, offered) {
    const langs = offered && offered.length ? LANGS.filter((code) => offered.includes(code)) : LANGS;
    const wanted = [wantedLang, ...(navigator.languages || []), navigator.language];
    for (const tag of wanted) {
      const base = String(tag || "")
        .toLowerCase()
        .split(/[-_]/)[0];
      if (langs.includes(base) && strings[base]) return base;
    }
    return offered && offered.length && strings[offered[0]] ? offered[0] : "en";
  }

  /** The shop's colours (shop.yml) as the widget's CSS variables; CSSOM, so a strict CSP allows it. */
  function applyColours(root, colours) {
    const hex = /^#[0-9a-f]{6}$/i;
    if (!colours) return;
    const set = (name, value) => hex.test(value || "") && root.style.setProperty(name, value);
    for (const name of ["--vm-primary", "--vm-primary-hover", "--vm-customer-bubble", "--vm-focus", "--vm-qr-text", "--vm-link"])
      set(name, colours.primary);
    for (const name of ["--vm-on-primary", "--vm-customer-text"]) set(name, colours.on_primary);
    set("--vm-accent", colours.accent);
  }

  // ------------------------------------------------------------------
  // The widget
  // ------------------------------------------------------------------
  /**
   * mountView({client, strings, config, local, perTab}) draws the widget into document.body.
   * client: the headless client; strings: window.ChatWidgetI18n; config: the script tag's
   * data-* attributes; local / perTab: JSON stores over localStorage / sessionStorage;
   * shop: GET /api/shop (name, colours, logo, greeting, languages, locales, hours, embedding),
   * or null when the gateway could not be asked.
   */
  function mountView({ client, strings: allStrings, config, local, perTab, shop, apiBase }) {
    shop = shop || {};
    const lang = pickLanguage(allStrings, config.lang, shop.languages);
    const strings = Object.assign({}, allStrings.en, allStrings[lang]);
    const plural = new Intl.PluralRules(lang);
    const shopVars = {
      shop: shop.name || "",
      email: shop.contact_email || "",
      hours: (shop.chat_hours && shop.chat_hours[lang]) || "",
    };
    const t = (key, vars) => {
      let text = strings[key];
      if (text && typeof text === "object") text = text[plural.select(vars.n)] || text.other;
      text = text == null ? key : String(text);
      const all = Object.assign({}, shopVars, vars);
      return text
        .replace(/\{(\w+)\}/g, (_, name) => (name in all ? String(all[name]) : ""))
        .replace(/\s{2,}/g, " ")
        .trim();
    };
    const locale = (shop.locales && shop.locales[lang]) || lang;
    const timeFormat = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
    // The page's origin is not in the shop's allowed_origins: say so plainly, make no requests.
    const blocked = Boolean(shop.embedding && shop.embedding.allowed === false);

    // --- state ---------------------------------------------------------
    let isOpen = false;
    let historyLoaded = client.state.historyLoaded;
    let connection = "ok";
    let relayPending = client.state.relayPending;
    let agentTyping = null; // {name} while an agent types
    let botThinking = false; // our message is with the bot: show the dots
    let mode = "bot";
    let agentName = client.state.agent; // who has the conversation (header), while someone has it
    const known = new Map(); // message id -> list item
    const items = new Map(); // outbox client_id -> list item
    const payloadTitles = new Map(); // button payload -> title, to show titles instead of payloads

    // --- DOM -------------------------------------------------------------
    const uid = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
    const root = el("div", { class: "vm-root", lang, "data-vm-widget": "" });
    if (config.theme === "dark" || config.theme === "light") root.dataset.theme = config.theme;
    applyColours(root, shop.colours);

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

    const subtitle = el("p", { class: "vm-subtitle", "data-testid": "vm-subtitle", text: t("subtitleBot") });
    const endButton = el(
      "button",
      {
        type: "button",
        class: "vm-end",
        "data-testid": "vm-end-chat",
        "aria-label": t("endChat"),
        title: t("endChat"),
        hidden: true,
        onclick: () => askToEnd(),
      },
      icon("end")
    );
    const closeButton = el(
      "button",
      { type: "button", class: "vm-close", "aria-label": t("close"), title: t("close"), onclick: () => close() },
      icon("close")
    );
    const header = el(
      "div",
      { class: "vm-header" },
      shop.logo
        ? el("img", { class: "vm-avatar vm-logo", alt: "", src: new URL(shop.logo, apiBase || location.href).href })
        : el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt")),
      el(
        "div",
        { class: "vm-heading" },
        el("h2", { class: "vm-title", id: `vm-title-${uid}`, text: t("title") }),
        subtitle
      ),
      endButton,
      closeButton
    );

    const endYes = el("button", {
      type: "button",
      class: "vm-button vm-button-primary",
      "data-testid": "vm-end-confirm",
      text: t("endChatYes"),
      onclick: () => endChat(),
    });
    const endNo = el("button", { type: "button", class: "vm-button", text: t("endChatNo"), onclick: () => cancelEnd() });
    const endConfirm = el(
      "div",
      {
        class: "vm-confirm",
        role: "group",
        "aria-labelledby": `vm-end-${uid}`,
        "data-testid": "vm-end-dialog",
        hidden: true,
      },
      el("p", { id: `vm-end-${uid}`, text: t("endChatConfirm") }),
      el("div", { class: "vm-feedback-actions" }, endNo, endYes)
    );

    const notice = el("div", { class: "vm-notice", role: "status", hidden: true });
    const typingLabel = el("span", { class: "vm-typing-label", hidden: true });
    const typingText = el("span", { class: "vm-sr", text: t("typing") });
    const typingAvatar = el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt"));
    const typing = el(
      "li",
      { class: "vm-typing", "data-testid": "vm-typing", hidden: true },
      typingAvatar,
      el(
        "span",
        { class: "vm-typing-bubble" },
        el("span", { class: "vm-dot" }),
        el("span", { class: "vm-dot" }),
        el("span", { class: "vm-dot" }),
        typingText
      ),
      typingLabel
    );
    const empty = el(
      "li",
      { class: "vm-empty" },
      el("span", { class: "vm-avatar vm-avatar-bot", "aria-hidden": "true" }, icon("bolt")),
      el("p", { text: (shop.greeting && shop.greeting[lang]) || t("welcome") }),
      shopVars.hours ? el("p", { class: "vm-hours", "data-testid": "vm-hours", text: t("hours") }) : null
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
    const feedbackDone = el("p", { class: "vm-feedback-done", "data-testid": "vm-info", role: "status", hidden: true });

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
    const fileInput = el("input", {
      type: "file",
      accept: FILE_TYPES,
      class: "vm-file-input",
      "data-testid": "vm-file-input",
      tabindex: "-1",
      "aria-hidden": "true",
      onchange: () => sendChosenFiles(),
    });
    const attachButton = el(
      "button",
      {
        type: "button",
        class: "vm-attach",
        "data-testid": "vm-attach",
        "aria-label": t("attach"),
        title: t("attach"),
        onclick: () => fileInput.click(),
      },
      icon("attach")
    );
    const composer = el(
      "form",
      { class: "vm-composer", novalidate: true, onsubmit: (event) => submitComposer(event) },
      attachButton,
      fileInput,
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
      endConfirm,
      notice,
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
      if (!blocked) client.setPanelOpen(true);
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
      endConfirm.hidden = true;
      root.classList.remove("vm-open");
      launcher.setAttribute("aria-expanded", "false");
      perTab.set("open", false);
      if (!blocked) client.setPanelOpen(false);
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
        if (!endConfirm.hidden) cancelEnd();
        else {
          close();
          launcher.focus();
        }
        return;
      }
      if (event.key !== "Tab") return;
      const list = focusables();
      if (!list.length) return;
      const first = list[0];
      const last = list[list.length - 1];
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

    // --- end chat ---------------------------------------------------------
    function askToEnd() {
      endConfirm.hidden = false;
      endYes.focus({ preventScroll: true });
    }

    function cancelEnd() {
      endConfirm.hidden = true;
      endButton.focus({ preventScroll: true });
    }

    async function endChat() {
      endConfirm.hidden = true;
      input.value = "";
      autosize();
      await client.endChat(); // the view is cleared by the client's "reset" event
      input.focus({ preventScroll: true });
    }

    // --- unread badge --------------------------------------------------
    const incoming = (item) => item.dataset.vmSender === "bot" || item.dataset.vmSender === "agent";

    function markSeen() {
      const lastId = client.state.lastId;
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

    // --- notices: offline > connection lost > the assistant reconnecting -------
    function updateNotice() {
      let key = null;
      if (blocked) key = "notAllowed";
      else if (connection === "offline") key = "offline";
      else if (connection !== "ok") key = "reconnecting";
      else if (relayPending) key = "relayPending";
      notice.hidden = !key;
      notice.textContent = key ? t(key) : "";
      root.classList.toggle("vm-degraded", Boolean(key));
    }

    function updateTyping() {
      if (agentTyping) {
        typingAvatar.className = "vm-avatar vm-avatar-agent";
        typingAvatar.replaceChildren(initials(agentTyping.name || t("agent")));
        typingLabel.textContent = t("agentTyping", { name: agentTyping.name || t("agent") });
        typingLabel.hidden = false;
        typingText.textContent = "";
      } else {
        typingAvatar.className = "vm-avatar vm-avatar-bot";
        typingAvatar.replaceChildren(icon("bolt"));
        typingLabel.hidden = true;
        typingText.textContent = t("typing");
      }
      const stick = isNearEnd();
      typing.hidden = !(agentTyping || botThinking);
      scrollToEnd(stick);
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
      const parts = String(name || "")
        .trim()
        .split(/\s+/)
        .filter(Boolean);
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
      const sender = message.sender;
      let item;
      if (sender === "customer") {
        item = customerItem(payloadTitles.get(message.text) || message.text, message.text);
        if (message.attachment) {
          const bubble = item.querySelector(".vm-bubble");
          bubble.classList.add("vm-bubble-file");
          bubble.append(attachmentNode(message.attachment));
          if (announceIt) announce(`${t("you")}: ${attachmentLabel(message.attachment)}`);
        }
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
        if (message.attachment) bubble.append(attachmentNode(message.attachment));
        const body = el("div", { class: "vm-body" }, meta, bubble);
        if (sender === "bot" && message.faq_id && message.id) body.append(helpfulRow(message.id));
        if (message.buttons.length) {
          const group = el("div", { class: "vm-replies", role: "group", "aria-label": t("quickReplies") });
          for (const { title, payload } of message.buttons) {
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
        const said = [plainText(message.text), message.attachment ? attachmentLabel(message.attachment) : ""];
        if (announceIt) announce(`${isAgent ? `${name} (${t("agent")})` : name}: ${said.filter(Boolean).join(" ")}`);
      }
      setId(item, message.id);
      return item;
    }

    // --- attachments: a thumbnail that opens the photo, or a link that downloads the PDF --------
    function fileSize(bytes) {
      const mb = bytes / (1024 * 1024);
      const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });
      return mb >= 1 ? `${number.format(mb)} MB` : `${number.format(Math.max(1, Math.round(bytes / 1024)))} kB`;
    }

    function attachmentLabel(file) {
      return file.kind === "image"
        ? t("attachmentImage", { name: file.name })
        : t("attachmentPdf", { name: file.name, size: fileSize(file.size) });
    }

    function attachmentNode(file) {
      const url = client.attachmentUrl(file.token);
      if (file.kind === "image") {
        const image = el("img", {
          src: url,
          alt: attachmentLabel(file),
          class: "vm-thumb-image",
          loading: "lazy",
          width: file.width ? String(Math.min(file.width, 220)) : null,
          height: file.width && file.height ? String(Math.round((file.height * Math.min(file.width, 220)) / file.width)) : null,
          "data-testid": "vm-attachment-image",
        });
        return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "vm-attachment" }, image);
      }
      return el(
        "a",
        { href: url, download: file.name, class: "vm-attachment vm-attachment-file", "data-testid": "vm-attachment-file" },
        el("span", { class: "vm-file-badge", "aria-hidden": "true", text: "PDF" }),
        el("span", { class: "vm-file-name", text: file.name }),
        el("span", { class: "vm-file-size", text: fileSize(file.size) })
      );
    }

    // --- sending a file -----------------------------------------------------------------------
    const uploads = new Map(); // client_id -> the pending list item

    function sendChosenFiles() {
      const chosen = Array.from(fileInput.files || []);
      fileInput.value = ""; // choosing the same file again fires change again
      clearError();
      for (const file of chosen.slice(0, 1)) client.sendFile(file, { lang });
    }

    client.on("fileSending", (entry) => {
      const item = customerItem(t("fileSending", { name: entry.name }), "");
      item.classList.add("vm-pending");
      item.dataset.testid = "vm-upload";
      uploads.set(entry.clientId, item);
      log.insertBefore(item, typing);
      refresh();
      scrollToEnd(true);
    });

    function dropUpload(entry) {
      const item = uploads.get(entry.clientId);
      uploads.delete(entry.clientId);
      if (item) item.remove();
      refresh();
    }

    client.on("fileSent", (entry) => dropUpload(entry));
    client.on("fileRefused", (entry, { reason }) => {
      dropUpload(entry);
      showError(FILE_REFUSED[reason] || "errFileFailed", { max: MAX_FILE_MB });
      announce(error.textContent);
    });

    // "Was this helpful?" under an FAQ answer; a thumbs-down may say what was missing.
    function helpfulRow(messageId) {
      const row = el("div", { class: "vm-helpful", role: "group", "aria-label": t("helpfulAsk"), "data-testid": "vm-helpful" });
      const status = el("span", { class: "vm-helpful-status", "aria-live": "polite" });
      const vote = async (helpful, comment) => {
        const ok = await client.sendHelpful(messageId, helpful, comment).catch(() => false);
        status.textContent = ok ? t("helpfulThanks") : t("feedbackError");
        return ok;
      };
      const input = el("input", {
        type: "text",
        maxlength: "500",
        "aria-label": t("helpfulMissing"),
        placeholder: t("helpfulMissing"),
        "data-testid": "vm-helpful-missing",
      });
      const missing = el(
        "form",
        {
          class: "vm-helpful-missing",
          hidden: true,
          onsubmit: async (event) => {
            event.preventDefault();
            if (await vote(false, input.value.trim())) missing.hidden = true;
          },
        },
        input,
        el("button", { type: "submit", class: "vm-qr", text: t("helpfulSend") })
      );
      const thumb = (helpful) =>
        el("button", {
          type: "button",
          class: "vm-thumb",
          "aria-label": t(helpful ? "helpfulYes" : "helpfulNo"),
          "aria-pressed": "false",
          title: t(helpful ? "helpfulYes" : "helpfulNo"),
          "data-testid": helpful ? "vm-helpful-yes" : "vm-helpful-no",
          text: helpful ? "👍" : "👎",
          onclick: async (event) => {
            const pressed = event.currentTarget;
            row.querySelectorAll(".vm-thumb").forEach((b) => b.setAttribute("aria-pressed", "false"));
            pressed.setAttribute("aria-pressed", "true");
            if (await vote(helpful)) missing.hidden = helpful;
          },
        });
      row.append(el("span", { class: "vm-helpful-ask", text: t("helpfulAsk") }), thumb(true), thumb(false), status, missing);
      return row;
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
      const list = Array.from(log.children).filter((node) => node.classList.contains("vm-item"));
      let offered = null;
      for (const item of list) {
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
      for (let index = list.length - 1; index >= 0; index -= 1) {
        const item = list[index];
        if (item.dataset.vmSender === "customer") answered = true;
        for (const button of item.querySelectorAll(".vm-qr")) {
          if (answered && button === document.activeElement) input.focus({ preventScroll: true });
          button.disabled = answered;
        }
      }
      empty.hidden = list.length > 0 || !historyLoaded;
      endButton.hidden = !client.state.sessionId;
      let previous = "";
      for (const item of list) {
        const key = `${item.dataset.vmSender}|${item.dataset.vmAgent || ""}`;
        item.classList.toggle("vm-grouped", key === previous && key !== "system|");
        previous = key;
      }
      updateBadge();
      if (isOpen) markSeen();
    }

    // --- the outbox on screen -----------------------------------------------
    function showStatus(entry, key) {
      const item = items.get(entry.clientId);
      if (!item) return;
      const status = item.vmStatus;
      status.replaceChildren();
      item.classList.toggle("vm-pending", !entry.id || key !== null);
      if (!key) {
        status.hidden = true;
        return;
      }
      status.hidden = false;
      status.append(
        el("span", { text: t(key) }),
        " ",
        el("button", { type: "button", class: "vm-link-button", text: t("retry"), onclick: () => client.retryNow() })
      );
      announce(t(key));
    }

    function showPending(entry) {
      payloadTitles.set(entry.text, entry.display);
      const item = customerItem(entry.display, entry.text);
      item.classList.add("vm-pending");
      items.set(entry.clientId, item);
      log.insertBefore(item, typing);
      if (entry.id) adopt(entry);
    }

    /** The outbox entry got its stored id: its bubble becomes that message (or merges with it). */
    function adopt(entry) {
      const item = items.get(entry.clientId);
      if (!item) return;
      const existing = known.get(entry.id);
      if (existing && existing !== item) {
        item.remove();
        items.set(entry.clientId, existing);
        existing.vmStatus = existing.vmStatus || item.vmStatus;
      } else {
        setId(item, entry.id);
      }
      items.get(entry.clientId).classList.remove("vm-pending");
    }

    function showError(key, vars) {
      error.textContent = t(key, vars);
      error.hidden = false;
    }

    function clearError() {
      error.hidden = true;
      error.textContent = "";
    }

    function send(text, display) {
      const rating = (RATING.exec(text) || [])[1] || null;
      clearError();
      hideFeedback(false);
      client.send(text, { display: display || text, rating });
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

    // --- client events ---------------------------------------------------------
    client.on("queued", (entry) => {
      feedbackDone.hidden = true; // "thanks" / "chat ended" belong to what came before
      showPending(entry);
      refresh();
      scrollToEnd(true);
    });
    client.on("sending", (_entry, { expectReply }) => {
      botThinking = expectReply;
      updateTyping();
    });
    client.on("idle", () => {
      botThinking = false;
      updateTyping();
    });
    client.on("confirmed", (entry) => adopt(entry));
    client.on("sent", (entry, { pending }) => {
      showStatus(entry, null);
      items.delete(entry.clientId);
      if (entry.rating && !pending) showFeedback(Number(entry.rating));
      refresh();
    });
    client.on("retrying", (entry, { reason }) => showStatus(entry, RETRY_TEXT[reason] || "errServer"));
    client.on("refused", (entry, { status }) => {
      const item = items.get(entry.clientId);
      items.delete(entry.clientId);
      if (item && !item.dataset.vmId) item.remove();
      showError(status === 413 ? "errTooLong" : "errInvalid", { max: MAX_CHARS });
      announce(error.textContent);
      // Give the text back to edit, unless the customer is already typing something else.
      if (!input.value && entry.display === entry.text) input.value = entry.text;
      autosize();
      refresh();
    });
    client.on("messages", (messages, { history }) => {
      const stick = isNearEnd();
      for (const message of messages) {
        if (known.has(message.id)) continue;
        renderMessage(message, !history);
        if (message.sender !== "customer") botThinking = false;
      }
      updateTyping();
      refresh();
      scrollToEnd(stick || history);
    });
    client.on("history", () => {
      historyLoaded = true;
      refresh();
      scrollToEnd(true);
    });
    client.on("session", () => {
      historyLoaded = true;
      refresh();
    });
    client.on("mode", (value) => setMode(value));
    client.on("agent", (name) => {
      agentName = name;
      updateHeader();
    });
    client.on("relay", (state) => {
      relayPending = state === "pending";
      updateNotice();
    });
    client.on("connection", (state) => {
      connection = state;
      updateNotice();
    });
    client.on("typing", ({ name, typing: active }) => {
      agentTyping = active ? { name } : null;
      updateTyping();
    });
    client.on("reset", ({ reason }) => {
      const hadChat = known.size > 0;
      for (const node of Array.from(log.children)) if (node.classList.contains("vm-item")) node.remove();
      known.clear();
      items.clear();
      agentTyping = null;
      botThinking = false;
      relayPending = false;
      historyLoaded = true;
      local.remove("seen");
      hideFeedback(false);
      feedbackDone.hidden = true;
      setMode("bot");
      for (const entry of client.state.outbox) showPending(entry);
      updateTyping();
      updateNotice();
      refresh();
      // The customer ended it, or the gateway no longer knows it (a long pause, ended elsewhere).
      const info = reason === "ended" ? "chatEnded" : hadChat || client.state.outbox.length ? "chatExpired" : null;
      if (info) {
        feedbackDone.textContent = t(info);
        feedbackDone.hidden = false;
        announce(t(info));
      }
    });

    function setMode(value) {
      mode = value;
      root.classList.toggle("vm-handoff", value === "handoff");
      updateHeader();
    }

    /** The assistant; waiting in the queue for a person; or connected with that person. */
    function updateHeader() {
      let text = t("subtitleBot");
      let state = "bot";
      if (mode === "handoff" && agentName) {
        text = t("subtitleConnected", { name: agentName });
        state = "connected";
      } else if (mode === "handoff") {
        text = t("subtitleQueued");
        state = "queued";
      }
      subtitle.textContent = text;
      subtitle.dataset.state = state;
      root.classList.toggle("vm-connected", state === "connected");
    }

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
        const ok = await client.sendFeedback(feedbackRating, comment);
        if (!ok) throw new Error("feedback refused");
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
      if (input.value.trim()) client.noteTyping();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submitForm(composer);
      }
    });

    // --- start -----------------------------------------------------------
    setMode(client.state.mode);
    for (const entry of client.state.outbox) showPending(entry);
    updateNotice();
    refresh();
    if (blocked) {
      input.disabled = sendButton.disabled = true;
      root.dataset.blocked = "";
    } else client.start();
    const remembered = perTab.get("open");
    if (remembered === true || (remembered === null && config.open === "true")) open(false);
    else if (!blocked && client.state.storedLastId > (local.get("seen") || 0)) client.loadHistory(); // for the unread badge
    updateBadge();

    return {
      open: () => open(true),
      close,
      toggle: () => (isOpen ? close() : open(true)),
      endChat: () => client.endChat(),
      setTheme(theme) {
        if (theme === "dark" || theme === "light") root.dataset.theme = theme;
        else delete root.dataset.theme;
      },
      get lang() {
        return lang;
      },
      get sessionId() {
        return client.state.sessionId;
      },
      get connection() {
        const { transport, connection: state, mode: current } = client.state;
        return { transport, state, mode: current };
      },
    };
  }

  const parts = (root.ChatWidgetParts = root.ChatWidgetParts || {});
  parts.view = { mountView, renderMarkdown };
})(self);
