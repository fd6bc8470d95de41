// The card page (docs/billing.md, "The card page"): Stripe's own card element takes the card
// number (it never reaches the portal), Stripe.js confirms the PaymentIntent, and the form then
// returns to the portal with the PaymentIntent's id only; the portal asks Stripe what happened.
(function () {
  'use strict';
  var form = document.getElementById('card-form');
  if (!form || typeof Stripe !== 'function') return;
  var stripe = Stripe(form.getAttribute('data-publishable-key'));
  var card = stripe.elements().create('card');
  card.mount('#card-element');
  var errors = document.getElementById('card-errors');
  var button = document.getElementById('card-submit');
  var save = document.getElementById('card-save');
  var busy = false;
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.disabled = true;
    errors.textContent = '';
    var data = { payment_method: { card: card } };
    if (save && save.checked) data.setup_future_usage = 'off_session';
    stripe.confirmCardPayment(form.getAttribute('data-client-secret'), data).then(function (result) {
      if (result && result.error) {
        errors.textContent = result.error.message || 'The card was not accepted. Check it, or try another card.';
        busy = false;
        button.disabled = false;
        return;
      }
      // Back to the portal (a plain form post: it does not trigger this handler again).
      form.submit();
    });
  });
})();
