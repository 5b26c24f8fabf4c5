/* Queue page: renders the rows from the embedded JSON, and again from queue.json after every push. */
(function () {
  "use strict";
  var VM = window.VMAgent;
  var R = window.VMRender;
  var root = document.getElementById("queue");
  var base = root.dataset.base;
  var state = VM.pageState();
  var filter = document.getElementById("label-filter");
  var channelFilter = document.getElementById("channel-filter");
  var selected = -1;

  var LISTS = [
    ["waiting", 6, "Nobody is waiting."],
    ["mine", 6, "You have no open conversations."],
    ["tickets", 6, "No open promises."],
  ];

  function summary(data) {
    var node = document.getElementById("online-summary");
    var online = (data.team || []).filter(function (a) { return a.presence === "online"; });
    node.replaceChildren();
    if (!online.length) {
      node.append(VM.el("strong", "warn", "Nobody is online: new customers are offered an email reply."));
    } else {
      node.append("Online: " + online.map(function (a) { return a.name; }).join(", ") + ".");
      if (data.expected_wait_minutes) node.append(" A new customer would wait about " + data.expected_wait_minutes + " min.");
    }
    if (!data.within_hours) node.append(" Outside chat hours.");
  }

  function labelOptions(labels) {
    var current = filter.value;
    var options = [VM.el("option", null, "all")];
    options[0].value = "";
    (labels || []).forEach(function (l) {
      var o = VM.el("option", null, l);
      o.value = l;
      options.push(o);
    });
    filter.replaceChildren.apply(filter, options);
    filter.value = (labels || []).indexOf(current) >= 0 ? current : "";
  }

  /** The label and channel filters both hold. */
  function shown(h) {
    return (!filter.value || (h.labels || []).indexOf(filter.value) >= 0) &&
      (!channelFilter.value || h.channel === channelFilter.value);
  }

  function render(data) {
    state = data;
    LISTS.forEach(function (spec) {
      var id = spec[0];
      var rows = (data[id] || []).filter(shown);
      var body = document.getElementById(id);
      var nodes = rows.length ? rows.map(function (h) { return R.queueRow(id, h, base); }) : [R.emptyRow(spec[1], spec[2])];
      body.replaceChildren.apply(body, nodes);
      document.getElementById(id + "-count").textContent = String(rows.length);
    });
    summary(data);
    var waiting = (data.waiting || []).length;
    window.VMLive.baseTitle((waiting ? waiting + " waiting · " : "") + "Queue · " + (document.body.dataset.shopName || "") + " agent console");
    select(Math.min(selected, rows().length - 1));
  }

  var timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(async function () {
      try {
        var result = await VM.request("GET", root.dataset.queueUrl);
        if (result.ok) { labelOptions(result.data.labels); render(result.data); }
      } catch (err) { /* the next push retries */ }
    }, 100);
  }

  // Waiting times tick locally between pushes.
  setInterval(function () {
    ["waiting", "mine"].forEach(function (id) {
      (state[id] || []).forEach(function (h) { h.wait_seconds += 1; });
      document.querySelectorAll("#" + id + " tr[data-handoff-id] .duration").forEach(function (node, n) {
        var row = (state[id] || []).filter(shown)[n];
        if (row) node.textContent = VM.duration(row.wait_seconds);
      });
    });
  }, 1000);

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue tr[data-handoff-id]")); }
  function select(n) {
    var all = rows();
    all.forEach(function (r) { r.classList.remove("selected"); });
    selected = n;
    if (n >= 0 && all[n]) { all[n].classList.add("selected"); all[n].scrollIntoView({ block: "nearest" }); }
  }

  window.VMLive.key("j", function () { select(Math.min(selected + 1, rows().length - 1)); });
  window.VMLive.key("k", function () { select(Math.max(selected - 1, 0)); });
  window.VMLive.key("Enter", function () {
    var row = rows()[selected];
    if (row) window.location.assign(base + "handoffs/" + row.dataset.handoffId);
  });
  window.VMLive.key("c", function () {
    var row = rows()[selected];
    var form = row && row.querySelector(".claim-form");
    if (form) form.requestSubmit();
  });

  document.addEventListener("submit", async function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("claim-form")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true;
    try {
      var result = await VM.request("POST", form.getAttribute("action"));
      if (result.ok) { window.location.assign(result.data.url); return; }
      VM.flash(result.data.error || "Could not claim this conversation.", "error");
      refresh();
    } catch (err) {
      VM.flash("Network problem: " + err.message, "error");
    }
    if (button) button.disabled = false;
  });

  filter.addEventListener("change", function () { render(state); });
  channelFilter.addEventListener("change", function () { render(state); });
  window.VMLive.on("queue", refresh);
  window.VMLive.onConnect(refresh); // anything missed while disconnected
  function seen() { if (!document.hidden) window.VMLive.clearAttention(); }
  document.addEventListener("visibilitychange", seen);
  labelOptions(state.labels);
  render(state);
  seen();
})();
