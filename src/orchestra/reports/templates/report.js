(function () {
  "use strict";
  var runs = document.getElementById("runs");
  var failuresOnly = document.getElementById("failures-only");
  var note = document.getElementById("filter-note");
  var clear = document.getElementById("clear-element");
  var noun = runs.dataset.noun || "runs"; // a suite's page lists scenarios, with no failures
  var selected = null;

  function describe() {
    var total = Number(runs.dataset.total), failures = Number(runs.dataset.failures);
    var parts = [];
    if (failuresOnly && failuresOnly.checked) parts.push(failures + " of " + total + " " + noun + " failed");
    if (selected) parts.push(noun + " through " + selected.getAttribute("data-element"));
    note.textContent = parts.length ? "Showing " + parts.join(", ") : "Showing all " + total + " " + noun;
    clear.hidden = !selected;
  }

  if (failuresOnly) failuresOnly.addEventListener("change", function () {
    runs.classList.toggle("failures-only", failuresOnly.checked);
    describe();
  });

  function selectElement(group) {
    var marked = runs.querySelectorAll(".on-element");
    for (var i = 0; i < marked.length; i++) marked[i].classList.remove("on-element");
    if (selected) selected.classList.remove("selected");
    selected = group;
    if (group) {
      var id = " " + group.getAttribute("data-element") + " ";
      var all = runs.children;
      for (var j = 0; j < all.length; j++) {
        if ((" " + all[j].getAttribute("data-path") + " ").indexOf(id) >= 0) all[j].classList.add("on-element");
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
