// Live updates of the pipelines page (/ui/pipelines) from the server's event stream
// (GET /events/pipelines): each `pipelines` event carries every pipeline's status, and the
// page's rows (a pipeline's, and its nodes' beneath it) are updated in place. A pipeline or a
// node the page has no row for reloads the page. A node's records out per second are the
// difference between two events over the time between them.
// Without scripts the page reloads itself every few seconds instead.
(function () {
  "use strict";
  if (!window.EventSource) {
    return;
  }
  var CLASSES = { failed: "bad", finished: "good" };
  var DASH = "\u2013";
  function figure(v, digits) {
    if (v === null || v === undefined) {
      return DASH;
    }
    return digits ? v.toFixed(digits) : String(v);
  }
  // Per pipeline and node, the last records out and when they were seen.
  var last = {};
  function rate(key, out) {
    var now = Date.now();
    var before = last[key];
    last[key] = { out: out, at: now };
    if (!before || now <= before.at || out < before.out) {
      return DASH;
    }
    return String(Math.round(((out - before.out) * 1000) / (now - before.at)));
  }
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
    var sections = {};
    document.querySelectorAll("[data-nodes]").forEach(function (s) {
      sections[s.getAttribute("data-nodes")] = s;
    });
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
      // Its nodes' table (or the line saying it has none yet): same nodes, same order.
      var section = sections[p.name];
      var nodes = p.nodes || [];
      var nodeRows = section ? section.querySelectorAll("tr[data-node]") : [];
      if (!section || nodeRows.length !== nodes.length) {
        source.close();
        window.location.reload();
        return;
      }
      nodes.forEach(function (n, i) {
        var r = nodeRows[i];
        if (r.getAttribute("data-node") !== n.node) {
          return;
        }
        var d = r.cells;
        d[1].textContent = String(n.records_in);
        d[2].textContent = String(n.records_out);
        d[3].textContent = rate(p.name + "/" + n.node, n.records_out);
        d[4].textContent = n.event_time || "";
        d[5].textContent = figure(n.lag_seconds, 1);
        d[6].textContent = figure(n.state_bytes, 0);
        d[7].textContent = figure(n.late_rows, 0);
      });
    });
  });
})();
