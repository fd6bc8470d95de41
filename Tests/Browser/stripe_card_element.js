// Appended by the test harness (LocalStripeServer) to localstripe's mock of Stripe.js, which it
// serves at /js.stripe.com/v3/. localstripe's confirmCardPayment only performs the 3-D Secure
// step of a PaymentIntent that already has a card; real Stripe.js also takes the card from the
// card element, sets it on the PaymentIntent and confirms it. This does that part, as Stripe.js
// does, through one harness route of localstripe (/_config/steadfast/confirm-card-payment),
// then hands a PaymentIntent that needs 3-D Secure to localstripe's own dialog.
(function () {
  const mock = Stripe;
  Stripe = function (publishableKey) {
    const stripe = mock(publishableKey);
    const authenticate = stripe.confirmCardPayment;
    stripe.confirmCardPayment = async function (clientSecret, data) {
      const element = data && data.payment_method && data.payment_method.card;
      if (!element || !element.value) return authenticate(clientSecret, data);
      const intent = clientSecret.match(/^(pi_\w+)_secret_/)[1];
      const response = await fetch(`${LOCALSTRIPE_BASE_API}/_config/steadfast/confirm-card-payment/${intent}`, {
        method: 'POST',
        body: JSON.stringify({
          client_secret: clientSecret, card: element.value.card, setup_future_usage: data.setup_future_usage || null,
        }),
      });
      const body = await response.json().catch(() => ({}));
      if (response.status !== 200 || body.error) return {error: body.error || {message: 'The card was not accepted.'}};
      if (body.status === 'requires_action') return authenticate(clientSecret, data);
      if (body.status !== 'succeeded') return {error: {message: `payment_intent has status ${body.status}`}};
      return {paymentIntent: body};
    };
    return stripe;
  };
})();
