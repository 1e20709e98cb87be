(function () {
  "use strict";
  var runs = document.getElementById("runs");
  var failuresOnly = document.getElementById("failures-only");
  var note = document.getElementById("filter-note");
  var clear = document.getElementById("clear-element");
  var noun = runs.dataset.noun || "runs"; // a suite's page lists scenarios, with no failures
  var selected = null;
  var stoppedBefore = 0; // runs with the selected element on their path that stopped before it

  function describe() {
    var total = Number(runs.dataset.total), failures = Number(runs.dataset.failures);
    var parts = [];
    if (failuresOnly && failuresOnly.checked) parts.push(failures + " of " + total + " " + noun + " failed");
    if (selected) parts.push(noun + " through " + selected.getAttribute("data-element"));
    var text = parts.length ? "Showing " + parts.join(", ") : "Showing all " + total + " " + noun;
    if (selected && stoppedBefore) {
      text += " (not the " + stoppedBefore + " that had it on their path but stopped before it)";
    }
    note.textContent = text;
    clear.hidden = !selected;
  }

  // whether the space-separated `list` holds `id`, given with a space on each side
  function holds(list, id) { return list !== null && (" " + list + " ").indexOf(id) >= 0; }

  if (failuresOnly) failuresOnly.addEventListener("change", function () {
    runs.classList.toggle("failures-only", failuresOnly.checked);
    describe();
  });

  function selectElement(group) {
    var marked = runs.querySelectorAll(".on-element");
    for (var i = 0; i < marked.length; i++) marked[i].classList.remove("on-element");
    if (selected) selected.classList.remove("selected");
    selected = group;
    stoppedBefore = 0;
    if (group) {
      var id = " " + group.getAttribute("data-element") + " ";
      var all = runs.children;
      for (var j = 0; j < all.length; j++) {
        // a run lists the elements it reached when they may differ from its path (it did not
        // pass), as the diagram's colours count them; a scenario (or a passed run) its path
        var path = all[j].getAttribute("data-path"), reached = all[j].getAttribute("data-reached");
        if (holds(reached === null ? path : reached, id)) all[j].classList.add("on-element");
        else if (holds(path, id)) stoppedBefore++;
      }
      group.classList.add("selected");
    }
    runs.classList.toggle("by-element", !!group);
    describe();
  }

  // the process and each called process below it: their ids are unique on the page
  var drawings = document.querySelectorAll("svg.bpmn");
  for (var k = 0; k < drawings.length; k++) drawings[k].addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("a")) return; // a call's link to its drawing: just go there
    var group = event.target.closest("g.el");
    selectElement(group && group !== selected ? group : null);
  });
  clear.addEventListener("click", function () { selectElement(null); });
  describe();
})();
