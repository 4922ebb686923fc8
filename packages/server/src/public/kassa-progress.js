/* global document, window, fetch, setTimeout */
// Progress of an export or a data shredder run: polls the task's status and reloads the page once it
// has finished (to show the download) or failed. Served from our origin: no inline script under the CSP.
(function () {
  'use strict';
  function start() {
    var box = document.getElementById('task');
    if (!box) return;
    var url = box.getAttribute('data-task-status-url');
    var status = box.getAttribute('data-task-status');
    if (status !== 'queued' && status !== 'running') return;
    var bar = document.getElementById('task-progress');
    var count = document.getElementById('task-count');
    var badge = document.getElementById('task-status');
    function poll() {
      fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (t) {
          if (!t) return setTimeout(poll, 3000);
          var pct = t.total ? Math.floor(100 * t.done / t.total) : 0;
          bar.value = pct;
          bar.textContent = pct + '%';
          count.textContent = t.done + (t.total === null ? '' : ' of ' + t.total) + (t.kind === 'export' ? ' rows' : ' orders');
          badge.textContent = t.status;
          if (t.status === 'finished' || t.status === 'error') return window.location.reload();
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    setTimeout(poll, 500);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
