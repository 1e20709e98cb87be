// The live pages. On a suite run's page (#live): follow its event stream, change a run's row
// as soon as its status changes, fetch a run that ended for its share of the diagram's counts,
// recolour the diagram, keep failures first. On a test run's page: "Copy as cURL".
(function () {
  "use strict";
  var TERMINAL = ["PASSED", "FAILED", "ERROR", "SKIPPED", "CANCELLED", "FAILED_STUCK"];
  var FAILING = ["FAILED", "ERROR", "FAILED_STUCK"];
  var STATES = ["passed", "failed", "not-covered"];
  var SVG = "http://www.w3.org/2000/svg";

  function words(text) { return text ? text.split(" ").filter(Boolean) : []; }

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

  var live = document.getElementById("live");
  if (!live) return;

  // --- the suite run's page -------------------------------------------------------------
  var suiteRun = live.getAttribute("data-suite-run");
  var list = document.getElementById("runs");
  var note = document.getElementById("live-note");
  var cancel = document.getElementById("cancel");
  var groups = {};  // element id -> its <g> on the page's drawings
  var passed = {}, failed = {};  // element id -> runs that passed it / failed at it
  var all = document.querySelectorAll("svg.bpmn g.el[data-element]");
  for (var i = 0; i < all.length; i++) groups[all[i].getAttribute("data-element")] = all[i];

  function rowOf(id) { return list.querySelector('li[data-run="' + id + '"]'); }
  function rows() { return Array.prototype.slice.call(list.children); }

  function count(row, sign) {
    words(row.getAttribute("data-passed")).forEach(function (e) { passed[e] = (passed[e] || 0) + sign; });
    words(row.getAttribute("data-failed")).forEach(function (e) { failed[e] = (failed[e] || 0) + sign; });
  }

  function paint(element) {
    var group = groups[element];
    if (!group) return;
    var p = passed[element] || 0, f = failed[element] || 0;
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

  function isFailure(status) { return FAILING.indexOf(status) >= 0; }

  // failures first, then by id: move `row` where it belongs now
  function place(row) {
    var key = function (r) {
      return [isFailure(r.getAttribute("data-status")) ? 0 : 1, Number(r.getAttribute("data-run"))];
    };
    var mine = key(row);
    list.removeChild(row);
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

  // elements whose counts changed, painted once at the next frame however many runs ended
  var dirty = {}, scheduled = false;
  function repaint(elements) {
    elements.forEach(function (e) { dirty[e] = true; });
    if (scheduled) return;
    scheduled = true;
    window.requestAnimationFrame(function () {
      var painting = Object.keys(dirty);
      dirty = {};
      scheduled = false;
      painting.forEach(paint);
    });
  }

  // the run's share of the diagram's counts, its failure and its time, as they are now
  function show(row, passedElements, failedElements, failure, run) {
    count(row, -1);
    var before = words(row.getAttribute("data-passed")).concat(words(row.getAttribute("data-failed")));
    row.setAttribute("data-passed", passedElements.join(" "));
    row.setAttribute("data-failed", failedElements.join(" "));
    count(row, +1);
    repaint(before.concat(passedElements, failedElements));
    row.querySelector(".run-why").textContent = failure || "";
    var took = run.started_at && run.finished_at ? (Date.parse(run.finished_at) - Date.parse(run.started_at)) / 1000 : null;
    row.querySelector(".run-time").textContent = took === null ? "" : took.toFixed(1) + " s";
  }

  // a run that did not pass: what GET /test-runs/{id} says of it now
  function refresh(id) {
    return fetch("/test-runs/" + id, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (reply) { if (!reply.ok) throw new Error("test run " + id + ": " + reply.status); return reply.json(); })
      .then(function (run) {
        var row = rowOf(run.id);
        if (!row) return;
        show(row, run.passed_elements, run.failed_elements, run.failure, run);
        if (row.getAttribute("data-status") !== run.status) setStatus(row, run.status);
      })
      .catch(function (error) { note.textContent = "could not read a test run: " + error.message; });
  }

  function onRunEvent(data) {
    var row = rowOf(data.test_run);
    if (!row) return;
    if (row.getAttribute("data-status") !== data.status) setStatus(row, data.status);
    if (data.status === "PASSED") {
      // a run that passed went through its whole path, failing nowhere: nothing to read
      show(row, words(row.getAttribute("data-path")), [], null, data);
    } else if (TERMINAL.indexOf(data.status) >= 0) refresh(data.test_run);
  }

  function onProgress(data) {
    var status = document.getElementById("suite-run-status");
    status.className = "status " + data.status;
    status.textContent = data.status;
    live.setAttribute("data-status", data.status);
    var counts = data.counts || {};
    var cells = document.querySelectorAll("[data-count]");
    for (var k = 0; k < cells.length; k++) cells[k].textContent = counts[cells[k].getAttribute("data-count")] || 0;
    var bar = document.getElementById("progress");
    bar.max = Math.max(data.total, 1);
    bar.value = data.done;
    document.getElementById("progress-text").textContent = data.done + " of " + data.total + " ended";
  }

  // runs that changed between the page's drawing and the stream's first look: read them
  function catchUp(data) {
    var shown = {};
    rows().forEach(function (r) { var s = r.getAttribute("data-status"); shown[s] = (shown[s] || 0) + 1; });
    var counts = data.counts || {};
    var same = Object.keys(counts).concat(Object.keys(shown)).every(function (s) { return (counts[s] || 0) === (shown[s] || 0); });
    if (!same) readPage("/suite-runs/" + suiteRun + "/test-runs?limit=500");
  }
  function readPage(url) {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (reply) { return reply.json(); })
      .then(function (page) {
        page.test_runs.forEach(function (run) {
          var row = rowOf(run.id);
          if (row && row.getAttribute("data-status") !== run.status) {
            onRunEvent({test_run: run.id, status: run.status, started_at: run.started_at, finished_at: run.finished_at});
          }
        });
        if (page.next) readPage(page.next);
      });
  }

  rows().forEach(function (row) { count(row, +1); });
  Object.keys(groups).forEach(paint);

  function follow() {
    var stream = new EventSource("/suite-runs/" + suiteRun + "/events");
    var first = true;
    stream.addEventListener("progress", function (event) {
      var data = JSON.parse(event.data);
      onProgress(data);
      note.textContent = "live";
      if (first) catchUp(data);
      first = false;
    });
    stream.addEventListener("test-run", function (event) { onRunEvent(JSON.parse(event.data)); });
    stream.addEventListener("end", function (event) {
      stream.close();  // else the browser would open it again, and hear `end` again
      var data = JSON.parse(event.data);
      if (data.deleted) { note.textContent = "this suite run was deleted"; return; }
      onProgress(data);
      if (first) catchUp(data);
      cancel.hidden = true;
      note.textContent = "ended";
    });
    stream.onerror = function () { if (stream.readyState !== EventSource.CLOSED) note.textContent = "reconnecting…"; first = true; };
  }
  follow();

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
    var element = group.getAttribute("data-element");
    var run = rows().filter(function (r) { return words(r.getAttribute("data-failed")).indexOf(element) >= 0; })[0];
    if (run) {
      window.location.href = "/ui/test-runs/" + run.getAttribute("data-run") +
        "?element=" + encodeURIComponent(element) + "#failed-step";
    }
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
