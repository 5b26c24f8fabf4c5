/* Reports page: draws the charts from the JSON block the server rendered (no inline script: CSP). */
(function () {
  "use strict";
  var source = document.getElementById("report-data");
  if (!source || typeof window.Chart === "undefined") return;
  var report = JSON.parse(source.textContent);
  var Chart = window.Chart;
  Chart.defaults.animation = false; // figures, not a show; also keeps screenshots stable
  Chart.defaults.maintainAspectRatio = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  var days = report.trend.map(function (d) { return d.day.slice(5); });
  draw("chart-trend", {
    type: "bar",
    data: {
      labels: days,
      datasets: [
        { label: "contained", data: report.trend.map(function (d) { return d.contained; }), backgroundColor: "#2e7d5b", stack: "c" },
        { label: "handed off", data: report.trend.map(function (d) { return d.handed_off; }), backgroundColor: "#d9822b", stack: "c" }
      ]
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
  });

  var dist = report.overall.csat.distribution;
  draw("chart-csat", {
    type: "bar",
    data: {
      labels: ["1", "2", "3", "4", "5"],
      datasets: [{ label: "ratings", data: ["1", "2", "3", "4", "5"].map(function (s) { return dist[s]; }),
        backgroundColor: ["#b42318", "#d9822b", "#c9b037", "#7bb662", "#2e7d5b"] }]
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });

  var top = report.faq.slice(0, 10);
  draw("chart-faq", {
    type: "bar",
    data: {
      labels: top.map(function (e) { return e.faq_id; }),
      datasets: [{ label: "answers served", data: top.map(function (e) { return e.served; }), backgroundColor: "#0a66c2" }]
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
