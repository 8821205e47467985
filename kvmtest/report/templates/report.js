// The table of all tests: filter by status and text, sort by a column. Data: #tests-data.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("tests-data").textContent), S = data.S;
  // rows are packed (kvmtest/report/packed.py): [id, status, time, start, reason, log href, name]
  var tests = data.tests.map(function (p) {
    var tail = p[1], rest = tail.slice(tail.indexOf("-") + 1);
    return [S[p[0]] + tail, p[2], p[3], p[4], p[5],
            p[6] < 0 ? "" : S[p[6]] + (p[7] === null ? tail : p[7]) + "/debug.log",
            S[p[8]] + (p[9] === null ? rest : p[9])];
  });
  var body = document.querySelector("#all-tests tbody");
  var shown = document.getElementById("shown");
  var text = document.getElementById("test-filter");
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".status-filter"));
  var sortCol = 3, sortDir = 1, LIMIT = 1000;
  document.querySelector("#tests .controls").hidden = false;
  function cell(tr, value, cls) {
    var td = document.createElement("td");
    td.textContent = value;
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }
  function render() {
    var want = {}, needle = text.value.toLowerCase();
    boxes.forEach(function (b) { want[b.value] = b.checked; });
    var rows = tests.filter(function (t) {
      return want[t[1]] && (!needle || (t[0] + " " + t[4] + " " + t[6]).toLowerCase().indexOf(needle) >= 0);
    });
    rows.sort(function (a, b) { return a[sortCol] < b[sortCol] ? -sortDir : a[sortCol] > b[sortCol] ? sortDir : 0; });
    var frag = document.createDocumentFragment();
    rows.slice(0, LIMIT).forEach(function (t) {
      var tr = document.createElement("tr");
      cell(tr, t[0], "test").title = t[6];
      cell(tr, data.statuses[t[1]], "").innerHTML = "";
      var badge = tr.lastChild.appendChild(document.createElement("span"));
      badge.className = "badge s" + t[1];
      badge.textContent = data.statuses[t[1]];
      cell(tr, t[2], "num"); cell(tr, t[3], "num"); cell(tr, t[4], "reason");
      var log = cell(tr, "", "");
      if (t[5]) { var a = log.appendChild(document.createElement("a")); a.href = t[5]; a.textContent = "debug.log"; }
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    shown.textContent = rows.length + " of " + tests.length + " tests" + (rows.length > LIMIT ? " (first " + LIMIT + " shown)" : "");
  }
  boxes.forEach(function (b) { b.addEventListener("change", render); });
  text.addEventListener("input", render);
  document.querySelectorAll("#all-tests th[data-col]").forEach(function (th) {
    th.addEventListener("click", function () {
      var col = +th.getAttribute("data-col");
      sortDir = col === sortCol ? -sortDir : 1; sortCol = col; render();
    });
  });
  render();
})();
