/* Safe Markdown for the console, the same subset and approach as the widget's renderer:
   only DOM nodes are created (never innerHTML). Paragraphs, line breaks, **bold**, *italic*,
   "- " and "1. " lists, [text](http(s) url) and bare http(s) URLs; everything else,
   including HTML and non-http(s) links, stays plain text. */
(function () {
  "use strict";

  var INLINE =
    /\[([^\[\]\n]+)\]\(([^()\s]+)\)|\*\*(\S(?:.*?\S)?)\*\*|\*([^\s*](?:[^*]*?[^\s*])?)\*|(https?:\/\/[^\s<>"]*[^\s<>"'.,;:!?)\]])/g;

  function el(tag) { return document.createElement(tag); }

  function safeUrl(raw) {
    if (!/^https?:\/\//i.test(raw)) return null;
    try {
      var url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function link(href, parent) {
    var anchor = el("a");
    anchor.href = href;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    parent.append(anchor);
    return anchor;
  }

  function renderInline(text, parent, allowLinks) {
    var pattern = new RegExp(INLINE.source, "g");
    var last = 0;
    var match;
    while ((match = pattern.exec(text))) {
      if (match.index > last) parent.append(text.slice(last, match.index));
      var whole = match[0], linkText = match[1], linkUrl = match[2], bold = match[3], italic = match[4], bare = match[5];
      var href;
      if (linkText !== undefined) {
        href = allowLinks && safeUrl(linkUrl);
        if (href) renderInline(linkText, link(href, parent), false);
        else parent.append(whole);
      } else if (bold !== undefined) {
        renderInline(bold, parent.appendChild(el("strong")), allowLinks);
      } else if (italic !== undefined) {
        renderInline(italic, parent.appendChild(el("em")), allowLinks);
      } else {
        href = allowLinks && safeUrl(bare);
        if (href) link(href, parent).textContent = bare;
        else parent.append(whole);
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.append(text.slice(last));
  }

  function render(source) {
    var fragment = document.createDocumentFragment();
    var lines = String(source == null ? "" : source).replace(/\r\n?/g, "\n").split("\n");
    var paragraph = null;
    var list = null;
    lines.forEach(function (line) {
      if (!line.trim()) { paragraph = null; list = null; return; }
      var bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      var numbered = !bullet && /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        var type = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== type) {
          list = el(type);
          if (numbered && numbered[1] !== "1") list.start = Number(numbered[1]);
          fragment.append(list);
        }
        paragraph = null;
        renderInline(bullet ? bullet[1] : numbered[2], list.appendChild(el("li")), true);
        return;
      }
      list = null;
      if (paragraph) paragraph.append(el("br"));
      else paragraph = fragment.appendChild(el("p"));
      renderInline(line, paragraph, true);
    });
    return fragment;
  }

  window.VMMarkdown = { render: render };
})();
