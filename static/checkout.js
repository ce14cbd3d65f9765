// Checkout: the card form (Stripe.js makes a PaymentMethod, the server confirms it) and the
// Alipay button (the server confirms, the browser goes to Alipay). Without this script the
// Alipay and WeChat Pay forms still work as plain forms; the card needs it.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form) return;

  async function post(url, fields) {
    var body = new URLSearchParams(Object.assign({csrf_token: form.dataset.csrf}, fields));
    var response = await fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"Accept": "application/json"}
    });
    return response.json();
  }

  // Alipay: follow Stripe's redirect from here (a navigation, not a form's redirect chain).
  var alipay = document.querySelector(".redirect-form");
  if (alipay) {
    alipay.addEventListener("submit", async function (event) {
      event.preventDefault();
      var button = alipay.querySelector("button");
      button.disabled = true;
      try {
        var data = await post(alipay.action, {method: "alipay"});
        if (data.error) {
          document.getElementById("alipay-error").textContent = data.error;
          button.disabled = false;
          return;
        }
        var action = data.next_action;
        if (action && action.url) return window.location.assign(action.url);
        if (data.next) return window.location.assign(data.next);
        window.location.assign(window.location.pathname + "?method=alipay");
      } catch (err) {
        alipay.submit();  // the plain form does the same
      }
    });
  }

  if (typeof Stripe === "undefined") {
    document.getElementById("card-error").textContent = form.dataset.msgError;
    return;
  }
  // Stripe.js' own messages (card errors) in the page's language, not the browser's.
  var stripe = Stripe(form.dataset.key, {locale: form.dataset.locale || "auto"});
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var button = document.getElementById("pay-button");
  var errorBox = document.getElementById("card-error");
  var label = button.textContent;

  function fail(message) {
    errorBox.textContent = message || form.dataset.msgError;
    button.disabled = false;
    button.textContent = label;
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    errorBox.textContent = "";
    button.disabled = true;
    button.textContent = form.dataset.msgWorking;
    try {
      var made = await stripe.createPaymentMethod({type: "card", card: card});
      var id = made && made.paymentMethod && made.paymentMethod.id;
      if (!id) return fail(made && made.error && made.error.message);
      var data = await post(form.dataset.payUrl, {method: "card", payment_method: id});
      if (data.status === "requires_action") {
        // Confirmed on the server: Stripe.js does what the intent's next action asks
        // (3-D Secure goes to the bank's page and comes back to the return page).
        var done = await stripe.handleNextAction({clientSecret: data.client_secret});
        if (done && done.error) return fail(done.error.message);
      } else if (data.status !== "succeeded" && data.status !== "processing") {
        return fail(data.error);
      }
      window.location.assign(data.next);
    } catch (err) {
      fail();
    }
  });
})();
