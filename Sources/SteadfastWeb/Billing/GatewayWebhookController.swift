import Hummingbird
import HTTPTypes
import SteadfastDomain
import SteadfastServices

/// The payment providers' signed notifications. No session or token: the signature is the
/// authentication. A replayed notification returns the original answer.
/// - `POST /api/v1/gateways/testcard/webhook`: `X-Signature: sha256=<hex HMAC-SHA256 of the raw
///   body>` (401 when wrong). Registered only when testcard is an enabled gateway: elsewhere the
///   route does not exist (404).
/// - `POST /api/v1/gateways/stripe/webhook`: `Stripe-Signature` (400 when missing, stale or
///   wrong, as Stripe expects; nothing is applied). 404 unless stripe is an enabled gateway.
struct GatewayWebhookController: Sendable {
    let billing: BillingWeb

    static let signature = HTTPField.Name("X-Signature")!
    static let stripeSignature = HTTPField.Name("Stripe-Signature")!

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        if billing.settings.gateways.contains(TestCardGateway.name) {
            api.post("gateways/testcard/webhook", use: testCard)
        }
        api.post("gateways/stripe/webhook", use: stripe)
    }

    @Sendable func testCard(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let result = try await billing.payments.handleTestCardWebhook(body: Array(body.readableBytesView), signature: request.headers[Self.signature])
        context.logger.info("test card webhook", metadata: [
            "steadfast.checkout.id": .string(result.value.checkoutID), "steadfast.webhook.replayed": .stringConvertible(result.replayed),
        ])
        return BillingJSON.idempotent(result)
    }

    @Sendable func stripe(_ request: Request, context: PortalRequestContext) async throws -> Response {
        guard let stripe = billing.stripe else { throw BillingError.notFound("gateway") }
        // Stripe's events are a few kilobytes; 256 KiB bounds what an unsigned sender can make us hold.
        let body = try await request.body.collect(upTo: min(context.maxUploadSize, 256 * 1024))
        let result = try await stripe.handleWebhook(body: Array(body.readableBytesView), signature: request.headers[Self.stripeSignature])
        context.logger.info("stripe webhook", metadata: [
            "steadfast.stripe.event": .string(result.value.event), "steadfast.stripe.type": .string(result.value.type),
            "steadfast.webhook.result": .string(result.value.result), "steadfast.webhook.replayed": .stringConvertible(result.replayed),
        ])
        return BillingJSON.idempotent(result)
    }
}
