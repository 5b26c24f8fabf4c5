/* Queue page: refreshes from /agent/queue.json every 2.5 s and claims with one click. */
(function () {
  "use strict";
  var REFRESH_MS = 2500;
  var VM = window.VMAgent;
  var base = "/agent/";
  var timer = null;

  function cell(row, className, text) {
    var td = VM.el("td", className, text);
    row.appendChild(td);
    return td;
  }

  function langCell(row, lang) {
    cell(row).appendChild(VM.el("span", "lang", lang));
  }

  function postForm(action, label, testid, className) {
    var form = VM.el("form", "inline" + (className ? " " + className : ""));
    form.method = "post";
    form.action = action;
    form.appendChild(VM.csrfInput());
    var button = VM.el("button", null, label);
    button.type = "submit";
    button.dataset.testid = testid;
    form.appendChild(button);
    return form;
  }

  function emptyRow(columns, text) {
    var tr = VM.el("tr", "empty");
    var td = VM.el("td", null, text);
    td.colSpan = columns;
    tr.appendChild(td);
    return tr;
  }

  function waitingRow(h) {
    var tr = VM.el("tr");
    tr.dataset.handoffId = h.id;
    langCell(tr, h.language);
    cell(tr, null, (h.reason || "").replace(/_/g, " "));
    cell(tr, "wait", VM.duration(h.wait_seconds));
    cell(tr, "preview", h.preview);
    cell(tr).appendChild(postForm(base + "handoffs/" + h.id + "/claim", "Claim", "claim", "claim-form"));
    return tr;
  }

  function mineRow(h) {
    var tr = VM.el("tr");
    tr.dataset.handoffId = h.id;
    langCell(tr, h.language);
    cell(tr, null, (h.reason || "").replace(/_/g, " "));
    cell(tr, "wait", VM.duration(h.wait_seconds));
    var preview = cell(tr, "preview");
    if (h.awaiting_reply) {
      preview.appendChild(VM.el("span", "badge", "awaiting reply"));
      preview.appendChild(document.createTextNode(" "));
    }
    preview.appendChild(document.createTextNode(h.preview || ""));
    var link = VM.el("a", "button", "Open");
    link.href = base + "handoffs/" + h.id;
    cell(tr).appendChild(link);
    return tr;
  }

  function ticketRow(t) {
    var tr = VM.el("tr", t.overdue ? "overdue" : "");
    tr.dataset.handoffId = t.id;
    langCell(tr, t.language);
    cell(tr, null, t.contact_email || "—");
    cell(tr, null, t.promise);
    var due = cell(tr);
    due.appendChild(VM.timeNode(t.promise_due_at));
    if (t.overdue) {
      due.appendChild(document.createTextNode(" "));
      due.appendChild(VM.el("span", "badge badge-danger", "overdue"));
    }
    var link = VM.el("a", null, t.preview || "(open)");
    link.href = base + "handoffs/" + t.id;
    cell(tr, "preview").appendChild(link);
    cell(tr).appendChild(
      postForm(base + "tickets/" + t.id + "/promise-kept", "Mark promise kept", "promise-kept"));
    return tr;
  }

  function fill(id, rows, render, columns, emptyText) {
    var body = document.getElementById(id);
    if (!body) return;
    var nodes = rows.length ? rows.map(render) : [emptyRow(columns, emptyText)];
    body.replaceChildren.apply(body, nodes);
    var count = document.getElementById(id + "-count");
    if (count) count.textContent = String(rows.length);
  }

  function render(data) {
    fill("waiting", data.waiting || [], waitingRow, 5, "Nobody is waiting.");
    fill("mine", data.mine || [], mineRow, 5, "You have no open conversations.");
    fill("tickets", data.tickets || [], ticketRow, 6, "No open promises.");
    var waiting = (data.waiting || []).length;
    document.title = (waiting ? "(" + waiting + ") " : "") + "Queue · VoltMart agent console";
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      var result = await VM.request("GET", base + "queue.json");
      if (result.ok) render(result.data);
      timer = setTimeout(refresh, REFRESH_MS);
    } catch (err) {
      timer = setTimeout(refresh, REFRESH_MS * 2);
    }
  }

  document.addEventListener("submit", async function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("claim-form")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      var result = await VM.request("POST", form.getAttribute("action"));
      if (result.ok) {
        window.location.assign(result.data.url);
        return;
      }
      VM.flash(result.data.error || "Could not claim this conversation.", "error");
      refresh();
    } catch (err) {
      VM.flash("Network problem: " + err.message, "error");
    }
    if (button) button.disabled = false;
  });

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("queue");
    if (!root) return;
    base = root.dataset.queueUrl.replace(/queue\.json$/, "");
    timer = setTimeout(refresh, REFRESH_MS);
  });
})();
