// Plot boxes in the manager's console: while a code is typed, suggest the cooperative's plots
// whose code starts with it (from /manage/plots/search), in the input's <datalist>. Without
// this script the box still works: the exact code is typed. With data-multi the box holds a
// list ("A01, A03-A09"), and only its last code is looked up.
(function () {
  "use strict";
  var SEPARATORS = /^(.*[\s,，、;；~～\-–—])?([^\s,，、;；~～\-–—]*)$/;
  document.querySelectorAll("input[data-plot-search]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var multi = input.hasAttribute("data-multi");
    var timer = null, asked = "";
    if (!list) return;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 150);
    });
    function suggest() {
      var head = "", term = input.value;
      if (multi) {
        var parts = SEPARATORS.exec(input.value) || [];
        head = parts[1] || "";
        term = parts[2] || "";
      }
      term = term.trim();
      if (!term || term === asked) return;
      asked = term;
      var url = input.getAttribute("data-plot-search") + "?q=" + encodeURIComponent(term);
      var field = input.form && input.form.querySelector("[name=field_id]");
      if (field && field.value) url += "&field=" + encodeURIComponent(field.value);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { plots: [] }; })
        .then(function (data) {
          var options = data.plots.map(function (p) {
            var o = document.createElement("option");
            o.value = head + p.code;
            o.label = p.field;
            return o;
          });
          list.replaceChildren.apply(list, options);
        })
        .catch(function () { /* suggestions are a help, not a need */ });
    }
  });
})();
