// A plan's field map without reloading the page: links inside #plan-map that lead to this
// plan's page (a section, a plot) fetch the same view from /plans/N/map and swap it in, and
// the address bar follows so that back and forward work. Without this script every link is a
// plain link to the whole page, which shows the same thing. After a swap, focus moves to the
// heading of what was asked for (the map, or the chosen plot), which screen readers announce.
// The map is one Tab stop; the arrow keys move between its plots (see rove).
(function () {
  "use strict";
  var root = document.getElementById("plan-map");
  if (!root || !window.fetch || !window.URL || !window.history.pushState) return;
  var fragment = root.getAttribute("data-fragment");
  var path = location.pathname;
  var KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };

  // One Tab stop for the whole map (the chosen plot, else the first), and the arrow keys
  // move between its plots: the nearest one in that direction, by where they are drawn.
  function rove() {
    var map = root.querySelector("svg.fieldmap");
    var links = map ? map.querySelectorAll("a") : [];
    if (!links.length) return;
    var chosen = map.querySelector(".chosen");
    var start = (chosen && chosen.closest("a")) || links[0];
    links.forEach(function (a) { a.setAttribute("tabindex", a === start ? "0" : "-1"); });
    var hint = document.getElementById("map-keys");
    if (hint) { hint.hidden = false; map.setAttribute("aria-describedby", "map-keys"); }
  }

  function centre(el) {
    var r = el.getBoundingClientRect();
    return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
  }

  function nextPlot(links, from, dir) {
    var c = centre(from);
    var best = null;
    var bestScore = Infinity;
    links.forEach(function (a) {
      if (a === from) return;
      var p = centre(a);
      var along = (p.x - c.x) * dir[0] + (p.y - c.y) * dir[1];
      if (along <= 1) return;
      var across = Math.abs((p.x - c.x) * dir[1]) + Math.abs((p.y - c.y) * dir[0]);
      var score = along + 2 * across;
      if (score < bestScore) { bestScore = score; best = a; }
    });
    return best;
  }

  root.addEventListener("keydown", function (event) {
    var link = event.target.closest && event.target.closest("svg.fieldmap a");
    if (!link || event.altKey || event.ctrlKey || event.metaKey) return;
    var links = Array.prototype.slice.call(link.ownerSVGElement.querySelectorAll("a"));
    var to = null;
    if (KEYS[event.key]) to = nextPlot(links, link, KEYS[event.key]);
    else if (event.key === "Home") to = links[0];
    else if (event.key === "End") to = links[links.length - 1];
    else return;
    event.preventDefault();
    if (!to) return;
    link.setAttribute("tabindex", "-1");
    to.setAttribute("tabindex", "0");
    to.focus();
  });

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
        rove();
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

  rove();

  window.addEventListener("popstate", function () {
    var url = new URL(location.href);
    show(url, false).catch(function () { location.reload(); });
  });
})();
