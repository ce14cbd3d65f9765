// A hold's live countdown: the page says "held until 14:35" as text; this adds the minutes
// and seconds left beside it, and says so when the time has run out (reloading then shows
// "reserve again"). Without JavaScript the clock time is all there is, and it is enough.
(function () {
  "use strict";
  document.querySelectorAll("time[data-countdown]").forEach(function (time) {
    var ends = Date.parse(time.getAttribute("datetime"));
    if (isNaN(ends)) return;
    var out = document.createElement("span");
    out.className = "countdown";
    out.setAttribute("aria-live", "off");
    time.parentNode.appendChild(document.createTextNode(" "));
    time.parentNode.appendChild(out);
    var left = time.getAttribute("data-left");
    var over = time.getAttribute("data-over");
    function tick() {
      var s = Math.max(0, Math.round((ends - Date.now()) / 1000));
      if (s === 0) {
        out.textContent = over;
        out.classList.add("over");
        clearInterval(timer);
        return;
      }
      var mm = Math.floor(s / 60), ss = s % 60;
      out.textContent = left.replace("__", mm + ":" + (ss < 10 ? "0" : "") + ss);
    }
    var timer = setInterval(tick, 1000);
    tick();
  });
})();
