// The managers' week: a stacked bar chart of appointments by status per day, from the page's JSON (the table
// beside it has the same numbers). Chart.js is served by the service itself; no inline script (CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("week-data").textContent);
  const canvas = document.getElementById("week-chart");
  if (!canvas || typeof Chart === "undefined") return;
  const colours = {
    scheduled: "#1e3f7a", waiting: "#b7791f", in_progress: "#2f855a",
    completed: "#718096", cancelled: "#a0aec0", no_show: "#c53030",
  };
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map((s) => ({ label: s.label, data: s.counts, backgroundColor: colours[s.status] })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  });
});
