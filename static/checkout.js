// The card form: Stripe.js turns the card into a token, the server charges it.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.key);
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
      // A PaymentMethod (pm_) with Stripe; the emulator only makes tokens (their card_ id).
      var made = await stripe.createPaymentMethod({type: "card", card: card});
      var id = made && made.paymentMethod && made.paymentMethod.id;
      if (!id) {
        made = await stripe.createToken(card);
        id = made && made.token && made.token.card && made.token.card.id;
      }
      if (!id) return fail(made && made.error && made.error.message);
      var body = new URLSearchParams({csrf_token: form.dataset.csrf, card_id: id});
      var response = await fetch(form.dataset.payUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: {"Accept": "application/json"}
      });
      var data = await response.json();
      if (data.status === "requires_action") {
        var done = await stripe.confirmCardPayment(data.client_secret);
        if (done.error) return fail(done.error.message);
      } else if (data.status !== "succeeded") {
        return fail(data.error);
      }
      window.location.href = data.next;
    } catch (err) {
      fail();
    }
  });
})();
