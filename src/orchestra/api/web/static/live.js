// The live pages. On a suite run's page (#live): follow its event stream, change a run's row
// as soon as its status changes (a run that failed joins the list), keep failures first, and
// recolour the diagram from the counts the server keeps (GET /suite-runs/{id}/elements). On a
// test run's page (#test-run): "Copy as cURL", and while the run is in progress, follow its
// event stream and draw the page again (as the server renders it) when a step is recorded,
// the steps opened kept open and the keyboard's focus kept on its step.
(function () {
  "use strict";
  var TERMINAL = ["PASSED", "FAILED", "ERROR", "SKIPPED", "CANCELLED", "FAILED_STUCK"];
  var FAILING = ["FAILED", "ERROR", "FAILED_STUCK"];
  var STATES = ["passed", "failed", "not-covered"];
  var SVG = "http://www.w3.org/2000/svg";
  var JSON_HEADERS = {headers: {Accept: "application/json"}, credentials: "same-origin"};

  // --- copy as cURL ---------------------------------------------------------------------
  function copied(button, text) { button.textContent = text; }
  function copyText(button, text) {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { copied(button, "Copied"); },
        function () { copyBySelection(button, text); });
    } else copyBySelection(button, text);
  }
  function copyBySelection(button, text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (ignored) { done = false; }
    document.body.removeChild(area);
    copied(button, done ? "Copied" : "Select the text below to copy it");
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.copy-curl");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copies"));
    if (source) copyText(button, source.textContent);
  });

  // --- an event stream, for both pages --------------------------------------------------
  // `on.progress(data, first)` for each `progress` (first: the first since (re)connecting),
  // `on.run(data)` for each `test-run`, `on.end(data, first)` for `end`, when the stream
  // closes for good; `note` says where the stream is.
  function follow(url, note, on) {
    var stream = new EventSource(url);
    var first = true;
    stream.addEventListener("progress", function (event) {
      note.textContent = "live";
      on.progress(JSON.parse(event.data), first);
      first = false;
    });
    stream.addEventListener("test-run", function (event) { if (on.run) on.run(JSON.parse(event.data)); });
    stream.addEventListener("end", function (event) {
      stream.close();  // else the browser would open it again, and hear `end` again
      note.textContent = "ended";
      on.end(JSON.parse(event.data), first);
    });
    stream.onerror = function () {
      if (stream.readyState !== EventSource.CLOSED) note.textContent = "reconnecting…";
      first = true;
    };
  }

  var testRun = document.getElementById("test-run");
  if (testRun) followTestRun(testRun);

  // --- the test run's page --------------------------------------------------------------
  function followTestRun(shown) {
    if (TERMINAL.indexOf(shown.getAttribute("data-status")) >= 0) return;
    var id = shown.getAttribute("data-test-run");
    var reading = false, again = false;
    // the page as the server draws it now, in place of this one; steps opened stay open
    function redraw() {
      if (reading) { again = true; return; }
      reading = true;
      fetch(window.location.pathname + window.location.search, {credentials: "same-origin"})
        .then(function (reply) { if (!reply.ok) throw new Error("test run " + id + ": " + reply.status); return reply.text(); })
        .then(function (text) {
          var fresh = new DOMParser().parseFromString(text, "text/html").getElementById("test-run");
          var current = document.getElementById("test-run");
          if (!fresh || !current) return;
          var opened = current.querySelectorAll("details[open]");
          for (var i = 0; i < opened.length; i++) {
            var same = fresh.querySelector("#" + opened[i].id);
            if (same) same.open = true;
          }
          // the keyboard's focus stays on the step it was on (its summary)
          var focused = document.activeElement;
          var within = focused && current.contains(focused) && focused.closest("details[id]");
          current.parentNode.replaceChild(document.importNode(fresh, true), current);
          var refocus = within && document.getElementById(within.id);
          if (refocus && refocus.querySelector("summary")) refocus.querySelector("summary").focus();
        })
        .catch(function (error) { document.getElementById("live-note").textContent = error.message; })
        .then(function () { reading = false; if (again) { again = false; redraw(); } });
    }
    function drawn() {
      var page = document.getElementById("test-run");
      return {status: page.getAttribute("data-status"), steps: Number(page.getAttribute("data-steps"))};
    }
    function changed(data) {
      var now = drawn();
      if (data.deleted) return;
      if (now.status !== data.status || now.steps !== data.steps) redraw();
    }
    follow("/test-runs/" + id + "/events", document.getElementById("live-note"), {
      progress: changed,
      end: function (data) {
        if (data.deleted) { document.getElementById("live-note").textContent = "this test run was deleted"; return; }
        changed(data);
      }
    });
  }

  var live = document.getElementById("live");
  if (!live) return;

  // --- the suite run's page -------------------------------------------------------------
  var suiteRun = live.getAttribute("data-suite-run");
  var list = document.getElementById("runs");
  var note = document.getElementById("live-note");
  var cancel = document.getElementById("cancel");
  var groups = {};  // element id -> its <g> on the page's drawings
  var all = document.querySelectorAll("svg.bpmn g.el[data-element]");
  for (var i = 0; i < all.length; i++) groups[all[i].getAttribute("data-element")] = all[i];

  function rowOf(id) { return list.querySelector('li[data-run="' + id + '"]'); }
  function rows() { return Array.prototype.slice.call(list.children); }

  function paint(element, counts) {
    var group = groups[element];
    var p = counts.passed || 0, f = counts.failed || 0;
    var state = f ? "failed" : p ? "passed" : "not-covered";
    STATES.forEach(function (s) { group.classList.toggle(s, s === state); });
    group.setAttribute("data-outcome", state);
    var line = group.querySelector("polyline[marker-end]");
    if (line) {
      line.setAttribute("marker-end",
        line.getAttribute("marker-end").replace(/(passed|failed|not-covered)\)$/, state + ")"));
    }
    var title = group.querySelector("title");
    if (title) {
      var said = p || f ? p + " passed, " + f + " failed" : "not covered";
      title.textContent = title.textContent.replace(/ — [^\n]*/, " — " + said);
    }
    var badge = group.querySelector("text.badge");
    if (badge) {
      while (badge.firstChild) badge.removeChild(badge.firstChild);
      if (p) badge.appendChild(span("count-passed", p + "✓"));
      if (f) badge.appendChild(span("count-failed", " " + f + "✗"));
    }
  }
  function span(cls, text) {
    var t = document.createElementNS(SVG, "tspan");
    t.setAttribute("class", cls);
    t.textContent = text;
    return t;
  }

  // the diagram's counts, read again once runs ended: one request at a time, at most one a second
  var stale = false, counting = false;
  function recount() {
    stale = true;
    if (counting) return;
    counting = true;
    stale = false;
    fetch("/suite-runs/" + suiteRun + "/elements", JSON_HEADERS)
      .then(function (reply) { if (!reply.ok) throw new Error("counts: " + reply.status); return reply.json(); })
      .then(function (counted) {
        Object.keys(groups).forEach(function (e) { paint(e, counted.elements[e] || {}); });
      })
      .catch(function (error) { note.textContent = "could not read the diagram's counts: " + error.message; })
      .then(function () {
        window.setTimeout(function () { counting = false; if (stale) recount(); }, 1000);
      });
  }

  function isFailure(status) { return FAILING.indexOf(status) >= 0; }

  // failures first, then by id: move `row` where it belongs now
  function place(row) {
    var key = function (r) {
      return [isFailure(r.getAttribute("data-status")) ? 0 : 1, Number(r.getAttribute("data-run"))];
    };
    var mine = key(row);
    if (row.parentNode) list.removeChild(row);
    var before = null;
    var others = rows();
    for (var j = 0; j < others.length; j++) {
      var theirs = key(others[j]);
      if (theirs[0] > mine[0] || (theirs[0] === mine[0] && theirs[1] > mine[1])) { before = others[j]; break; }
    }
    list.insertBefore(row, before);
  }

  function setStatus(row, status) {
    var moves = isFailure(status) !== isFailure(row.getAttribute("data-status"));
    row.setAttribute("data-status", status);
    row.classList.toggle("is-failure", isFailure(status));
    var badge = row.querySelector(".status");
    badge.className = "status " + status;
    badge.textContent = status;
    row.classList.add("changed");  // flashes once; taken off when it has (animationend)
    if (moves) place(row);
  }
  list.addEventListener("animationend", function (event) { event.target.classList.remove("changed"); });

  // a run that failed and is not listed yet (the page lists the first runs only): a row for it
  function addRow(data) {
    var row = document.createElement("li");
    row.className = "live-run";
    row.setAttribute("data-run", data.test_run);
    row.setAttribute("data-status", "");
    var status = document.createElement("span");
    status.className = "status";
    var name = document.createElement("a");
    name.className = "run-name";
    name.href = "/ui/test-runs/" + data.test_run;
    name.textContent = data.scenario + (data.data_row_index === null || data.data_row_index === undefined ? "" : " [row " + data.data_row_index + "]");
    row.appendChild(status);
    row.appendChild(name);
    ["run-why", "run-time"].forEach(function (cls) {
      var part = document.createElement("span");
      part.className = cls;
      row.appendChild(part);
    });
    place(row);
    return row;
  }

  // the run's failure and its time, as they are now
  function show(row, failure, run) {
    row.querySelector(".run-why").textContent = failure || "";
    var took = run.started_at && run.finished_at ? (Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000 : null;
    row.querySelector(".run-time").textContent = took === null ? "" : took.toFixed(1) + " s";
  }

  // a run that did not pass: what GET /test-runs/{id} says of it now
  function refresh(id) {
    return fetch("/test-runs/" + id, JSON_HEADERS)
      .then(function (reply) { if (!reply.ok) throw new Error("test run " + id + ": " + reply.status); return reply.json(); })
      .then(function (run) {
        var row = rowOf(run.id);
        if (!row) return;
        row.setAttribute("data-failed", run.failed_elements.join(" "));
        show(row, run.failure, run);
        if (row.getAttribute("data-status") !== run.status) setStatus(row, run.status);
      })
      .catch(function (error) { note.textContent = "could not read a test run: " + error.message; });
  }

  function onRunEvent(data) {
    var row = rowOf(data.test_run) || (isFailure(data.status) ? addRow(data) : null);
    if (TERMINAL.indexOf(data.status) >= 0) recount();
    if (!row) return;
    if (row.getAttribute("data-status") !== data.status) setStatus(row, data.status);
    if (data.status === "PASSED") show(row, null, data);
    else if (TERMINAL.indexOf(data.status) >= 0) refresh(data.test_run);
  }

  var drawnCounts = {};  // the counts as last shown: the page's, then each `progress`'s
  var cells = document.querySelectorAll("[data-count]");
  for (var c = 0; c < cells.length; c++) drawnCounts[cells[c].getAttribute("data-count")] = Number(cells[c].textContent);

  function onProgress(data) {
    var status = document.getElementById("suite-run-status");
    status.className = "status " + data.status;
    status.textContent = data.status;
    live.setAttribute("data-status", data.status);
    drawnCounts = data.counts || {};
    for (var k = 0; k < cells.length; k++) cells[k].textContent = drawnCounts[cells[k].getAttribute("data-count")] || 0;
    var bar = document.getElementById("progress");
    bar.max = Math.max(data.total, 1);
    bar.value = data.done;
    document.getElementById("progress-text").textContent = data.done + " of " + data.total + " ended";
  }

  // runs that changed while the stream was not open (before its first look, or while it
  // reconnected): the diagram's counts, the listed runs, and the runs that failed, read again
  function catchUp(data) {
    var counts = data.counts || {};
    var same = Object.keys(counts).concat(Object.keys(drawnCounts)).every(function (s) { return (counts[s] || 0) === (drawnCounts[s] || 0); });
    if (same) return;
    recount();
    var ids = rows().map(function (r) { return Number(r.getAttribute("data-run")); });
    if (ids.length) {
      var last = Math.max.apply(null, ids);
      readPage("/suite-runs/" + suiteRun + "/test-runs?limit=500&after=" + (Math.min.apply(null, ids) - 1), last);
    }
    readPage("/suite-runs/" + suiteRun + "/test-runs?limit=500&status=FAILED&status=ERROR&status=FAILED_STUCK", 0);
  }
  // a page of runs and the next ones up to the run `last` (0: this page only)
  function readPage(url, last) {
    fetch(url, JSON_HEADERS)
      .then(function (reply) { if (!reply.ok) throw new Error("test runs: " + reply.status); return reply.json(); })
      .then(function (page) {
        page.test_runs.forEach(function (run) {
          var row = rowOf(run.id);
          if (row ? row.getAttribute("data-status") !== run.status : isFailure(run.status)) {
            onRunEvent({test_run: run.id, status: run.status, scenario: run.scenario,
              data_row_index: run.data_row_index, started_at: run.started_at, finished_at: run.finished_at});
          }
        });
        var beyond = page.test_runs.length && page.test_runs[page.test_runs.length - 1].id >= last;
        if (page.next && !beyond) readPage(page.next, last);
      })
      .catch(function (error) { note.textContent = "could not read the test runs: " + error.message; });
  }

  follow("/suite-runs/" + suiteRun + "/events", note, {
    progress: function (data, first) {
      if (first) catchUp(data);
      onProgress(data);
    },
    run: onRunEvent,
    end: function (data, first) {
      if (data.deleted) { note.textContent = "this suite run was deleted"; return; }
      if (first) catchUp(data);
      onProgress(data);
      cancel.hidden = true;
    }
  });

  cancel.addEventListener("click", function () {
    cancel.disabled = true;
    fetch(cancel.getAttribute("data-url"), {method: "POST", credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (reply) {
        if (!reply.ok && reply.status !== 409) throw new Error("cancel refused: " + reply.status);
        note.textContent = "cancelling…";
      })
      .catch(function (error) { cancel.disabled = false; note.textContent = error.message; });
  });

  // a red element leads to the step that failed there (the first failing run through it)
  function openFailure(group) {
    if (!group || !group.classList.contains("failed")) return;
    window.location.href = "/ui/suite-runs/" + suiteRun + "/failed-at?element=" +
      encodeURIComponent(group.getAttribute("data-element"));
  }
  var drawings = document.querySelectorAll("svg.bpmn");
  for (var d = 0; d < drawings.length; d++) {
    drawings[d].addEventListener("click", function (event) {
      if (!event.target.closest || event.target.closest("a")) return;
      openFailure(event.target.closest("g.el"));
    });
    drawings[d].addEventListener("keydown", function (event) {
      if (event.key === "Enter" && event.target.closest) openFailure(event.target.closest("g.el"));
    });
  }
})();
