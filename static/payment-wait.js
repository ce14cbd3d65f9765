// The waiting page (WeChat Pay QR code, or a payment Stripe has not confirmed yet): ask our
// server every few seconds where the payment stands, and move on when it is settled.
(function () {
  "use strict";
  var box = document.getElementById("wait");
  if (!box) return;
  var delay = 2000;

  async function check() {
    try {
      var response = await fetch(box.dataset.statusUrl, {
        credentials: "same-origin", headers: {"Accept": "application/json"}
      });
      if (response.ok) {
        var data = await response.json();
        if (data.next) return window.location.assign(data.next);
      }
    } catch (err) {
      // offline for a moment: try again a little later
    }
    delay = Math.min(delay * 1.25, 10000);
    window.setTimeout(check, delay);
  }
  window.setTimeout(check, delay);
})();
