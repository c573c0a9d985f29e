// Live updates of the pipelines page (/ui/pipelines) from the server's event stream
// (GET /events/pipelines): each `pipelines` event carries every pipeline's status, and the
// page's rows are updated in place. A pipeline the page has no row for reloads the page.
// Without scripts the page reloads itself every few seconds instead.
(function () {
  "use strict";
  if (!window.EventSource) {
    return;
  }
  var CLASSES = { failed: "bad", finished: "good" };
  var source = new EventSource("/events/pipelines");
  source.addEventListener("pipelines", function (e) {
    var all;
    try {
      all = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    var rows = document.querySelectorAll("tr[data-pipeline]");
    if (rows.length !== all.length) {
      source.close();
      window.location.reload();
      return;
    }
    var byName = {};
    rows.forEach(function (row) {
      byName[row.getAttribute("data-pipeline")] = row;
    });
    all.forEach(function (p) {
      var row = byName[p.name];
      if (!row) {
        source.close();
        window.location.reload();
        return;
      }
      var c = row.cells;
      var state = c[1].firstElementChild || c[1];
      state.textContent = p.state;
      state.className = CLASSES[p.state] || "";
      c[2].textContent = p.phase;
      c[4].textContent = String(p.rows);
      c[5].textContent = String(p.alerts);
      c[6].textContent = p.event_time || "";
      c[8].textContent = p.detail || "";
    });
  });
})();
