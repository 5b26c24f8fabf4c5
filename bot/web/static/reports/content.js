/* FAQ and canned-answer editor: a live preview per language (the same safe Markdown as the
   console and the widget, with the entry's links as the bot appends them) and the publishing
   check, run on the server without saving. */
(function () {
  "use strict";
  var VM = window.VMAgent;
  // Agent replies shown as drafts are Markdown: shown rendered, never as **raw** text.
  document.querySelectorAll("[data-markdown]").forEach(function (node) {
    node.replaceChildren(window.VMMarkdown.render(node.dataset.markdown));
  });
  var linksNode = document.getElementById("faq-links");
  var links = linksNode ? JSON.parse(linksNode.textContent) : [];

  function preview(box) {
    var target = box.closest(".lang-block").querySelector(".preview-body");
    var text = box.value.trim();
    if (text && links.length) text += "\n\n" + links.map(function (l) { return "- [" + l.title + "](" + l.url + ")"; }).join("\n");
    target.replaceChildren(text ? window.VMMarkdown.render(text) : VM.el("p", "hint", VM.t("(empty: English is shown instead)")));
  }
  document.querySelectorAll("textarea.faq-answer").forEach(function (box) {
    box.addEventListener("input", function () { preview(box); });
    preview(box);
  });

  var form = document.getElementById("faq-form");
  var checkButton = document.getElementById("faq-check");
  if (!form || !checkButton) return;
  checkButton.addEventListener("click", async function () {
    var out = document.getElementById("faq-check-result");
    out.replaceChildren(VM.el("p", "hint", VM.t("Checking…")));
    checkButton.disabled = true;
    var body = {};
    new FormData(form).forEach(function (value, key) { body[key] = value; });
    var response = await fetch(form.dataset.checkUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": body.csrf_token, Accept: "application/json" },
      body: new URLSearchParams(body),
    });
    checkButton.disabled = false;
    var data = await response.json().catch(function () { return { ok: false, issues: [] }; });
    var list = VM.el("ul", "problems");
    (data.issues || []).forEach(function (i) {
      var li = VM.el("li", "problem-" + i.severity, i.file + ":" + i.line + " — " + i.message);
      li.dataset.testid = "faq-check-issue";
      list.append(li);
    });
    var verdict = VM.el("p", data.ok ? "flash flash-info" : "flash flash-error",
      data.ok ? VM.t("The check passed: saving publishes this entry.") : VM.t("The check failed: saving would be refused."));
    verdict.dataset.testid = data.ok ? "faq-check-ok" : "faq-check-failed";
    out.replaceChildren(verdict, list);
  });
})();
