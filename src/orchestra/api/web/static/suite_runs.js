// The suite runs page: while a listed suite run is in progress, its status, progress and
// counts are refreshed in place from the JSON API every two seconds (one small request for
// the whole page, never a report); a run that ends loses its Cancel button.
"use strict";

(function () {
  const table = document.getElementById("suite-runs");
  if (!table) return;
  const PERIOD = 2000;

  function inProgress() {
    return table.querySelectorAll('tr[data-status="IN_PROGRESS"]');
  }

  function counts(cell, byStatus) {
    cell.replaceChildren();
    for (const status of Object.keys(byStatus).sort()) {
      cell.append(Orchestra.element("span", { class: "count " + status }, status + " " + byStatus[status]), " ");
    }
  }

  const FAILING = ["FAILED", "ERROR", "FAILED_STUCK"];

  function rerunForm(run) {
    const form = Orchestra.element("form", { method: "post", action: "/ui/suite-runs/" + run.suite_run + "/rerun" });
    form.append(Orchestra.element("button", { type: "submit" }, "Re-run failed"));
    return form;
  }

  function update(row, run) {
    const badge = row.querySelector('[data-field="status"]');
    badge.textContent = run.status;
    badge.className = "status " + run.status;
    const bar = row.querySelector('[data-field="progress"]');
    bar.max = run.total || 1;
    bar.value = run.done;
    bar.setAttribute("aria-label", run.done + " of " + run.total + " done");
    row.querySelector('[data-field="done"]').textContent = run.done + "/" + run.total;
    counts(row.querySelector('[data-field="counts"]'), run.counts);
    row.dataset.status = run.status;
    if (run.status !== "IN_PROGRESS") {
      const cancel = row.querySelector('form[action$="/cancel"]');
      if (cancel) cancel.remove();
      if (FAILING.some((status) => run.counts[status])) row.querySelector(".actions").append(rerunForm(run));
    }
  }

  async function refresh() {
    const rows = inProgress();
    if (rows.length === 0) return;
    const ids = Array.from(rows, (row) => Number(row.dataset.suiteRun));
    const highest = Math.max(...ids);
    const limit = Math.min(200, highest - Math.min(...ids) + 1);
    try {
      const page = await Orchestra.api("/suite-runs?before=" + (highest + 1) + "&limit=" + limit);
      const byId = new Map(page.suite_runs.map((run) => [String(run.suite_run), run]));
      for (const row of rows) {
        const run = byId.get(row.dataset.suiteRun);
        if (run) update(row, run);
      }
    } catch (error) {
      // signed out (web.js goes to the sign-in page) or the server is away: try again later
    }
    if (inProgress().length > 0) setTimeout(refresh, PERIOD);
  }

  setTimeout(refresh, PERIOD);
})();
