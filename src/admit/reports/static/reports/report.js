// Draws the report's chart (data from the page, Chart.js served by Admit).
(function () {
  var holder = document.getElementById("rp-chart-data");
  var canvas = document.getElementById("rp-chart");
  if (!holder || !canvas || typeof Chart === "undefined") return;
  var spec = JSON.parse(holder.textContent);
  var colours = ["#417690", "#e0a030", "#b04040", "#50a070", "#8060b0", "#607080"];
  new Chart(canvas, {
    type: spec.type === "line" ? "line" : "bar",
    data: {
      labels: spec.labels,
      datasets: spec.series.map(function (s, i) {
        return { label: s.label, data: s.data, backgroundColor: colours[i % colours.length],
                 borderColor: colours[i % colours.length], tension: 0.2, pointRadius: 2 };
      }),
    },
    options: {
      maintainAspectRatio: false, animation: false,
      indexAxis: spec.ranked ? "y" : "x",
      plugins: { legend: { display: spec.series.length > 1 } },
    },
  });
  canvas.setAttribute("data-drawn", "1");
})();
