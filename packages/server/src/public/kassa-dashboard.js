/* global document, window, fetch */
// The dashboard chart: an event's orders per day (stacked bars: paid, pending, expired/canceled)
// and money received and refunded per day (lines, right axis), drawn by Chart.js from the JSON
// route. Served from our origin; Chart.js needs neither eval nor inline styles, so the CSP holds.
(function () {
  'use strict';
  function start() {
    var canvas = document.getElementById('order-chart');
    if (!canvas || typeof window.Chart === 'undefined') return;
    var currency = canvas.getAttribute('data-currency');
    fetch(canvas.getAttribute('data-chart-url'), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error('chart data: HTTP ' + res.status); return res.json(); })
      .then(function (data) {
        var digits = new Intl.NumberFormat('en', { style: 'currency', currency: currency }).resolvedOptions().maximumFractionDigits;
        var major = function (minor) { return minor / Math.pow(10, digits); };
        var money = new Intl.NumberFormat(document.documentElement.lang || 'en', { style: 'currency', currency: currency });
        var days = data.days.map(function (d) { return d.day; });
        var chart = new window.Chart(canvas, {
          data: {
            labels: days,
            datasets: [
              { type: 'bar', label: 'Paid orders', data: data.days.map(function (d) { return d.paidOrders; }), backgroundColor: '#2f9e6e', stack: 'orders', yAxisID: 'orders' },
              { type: 'bar', label: 'Pending orders', data: data.days.map(function (d) { return d.pendingOrders; }), backgroundColor: '#e3a008', stack: 'orders', yAxisID: 'orders' },
              { type: 'bar', label: 'Expired / canceled', data: data.days.map(function (d) { return d.otherOrders; }), backgroundColor: '#c0c4cc', stack: 'orders', yAxisID: 'orders' },
              { type: 'line', label: 'Received (' + currency + ')', data: data.days.map(function (d) { return major(d.revenue); }), borderColor: '#3b5bdb', backgroundColor: '#3b5bdb', yAxisID: 'money', tension: 0.2 },
              { type: 'line', label: 'Refunded (' + currency + ')', data: data.days.map(function (d) { return major(d.refunded); }), borderColor: '#d9480f', backgroundColor: '#d9480f', yAxisID: 'money', tension: 0.2 },
            ],
          },
          options: {
            responsive: true, maintainAspectRatio: false, animation: false,
            interaction: { mode: 'index', intersect: false },
            scales: {
              x: { stacked: true },
              orders: { type: 'linear', position: 'left', stacked: true, beginAtZero: true, title: { display: true, text: 'Orders' }, ticks: { precision: 0 } },
              money: { type: 'linear', position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: currency },
                ticks: { callback: function (v) { return money.format(v); } } },
            },
            plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.yAxisID === 'money' ? c.dataset.label + ': ' + money.format(c.parsed.y) : c.dataset.label + ': ' + c.parsed.y; } } } },
          },
        });
        canvas.setAttribute('data-chart-ready', String(chart.data.datasets.length));
      })
      .catch(function (err) { canvas.setAttribute('data-chart-error', String(err && err.message)); });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
