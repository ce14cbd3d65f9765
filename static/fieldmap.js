// A plan's field map without reloading the page: links inside #plan-map that lead to this
// plan's page (a section, a plot) fetch the same view from /plans/N/map and swap it in, and
// the address bar follows so that back and forward work. Without this script every link is a
// plain link to the whole page, which shows the same thing. After a swap, focus moves to the
// heading of what was asked for (the map, or the chosen plot), which screen readers announce.
(function () {
  "use strict";
  var root = document.getElementById("plan-map");
  if (!root || !window.fetch || !window.URL || !window.history.pushState) return;
  var fragment = root.getAttribute("data-fragment");
  var path = location.pathname;

  function show(url, push) {
    root.setAttribute("aria-busy", "true");
    return fetch(fragment + url.search, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        root.innerHTML = html;
        root.removeAttribute("aria-busy");
        if (push) history.pushState({ map: true }, "", url.pathname + url.search + url.hash);
        var target = document.getElementById(url.hash === "#pick" ? "pick" : "map");
        if (!target) return;
        var heading = target.querySelector("[tabindex='-1']");
        if (heading) heading.focus({ preventScroll: true });
        if (push) target.scrollIntoView({ block: "start" });
      });
  }

  root.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    var link = event.target.closest("a");
    if (!link || !root.contains(link)) return;
    var url = new URL(link.getAttribute("href"), location.href);
    if (url.origin !== location.origin || url.pathname !== path) return;
    event.preventDefault();
    show(url, true).catch(function () { location.href = url.href; });
  });

  window.addEventListener("popstate", function () {
    var url = new URL(location.href);
    show(url, false).catch(function () { location.reload(); });
  });
})();
