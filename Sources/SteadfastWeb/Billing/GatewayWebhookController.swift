import Hummingbird
import HTTPTypes
import SteadfastDomain
import SteadfastServices

/// `POST /api/v1/gateways/testcard/webhook`: the test card provider's signed notifications.
/// No session or token: the `X-Signature: sha256=<hex HMAC-SHA256 of the raw body>` header is
/// the authentication (401 when wrong). A replayed notification returns the original answer.
struct GatewayWebhookController: Sendable {
    let billing: BillingWeb

    static let signature = HTTPField.Name("X-Signature")!

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        api.post("gateways/testcard/webhook", use: testCard)
    }

    @Sendable func testCard(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let result = try await billing.payments.handleTestCardWebhook(body: Array(body.readableBytesView), signature: request.headers[Self.signature])
        context.logger.info("test card webhook", metadata: [
            "steadfast.checkout.id": .string(result.value.checkoutID), "steadfast.webhook.replayed": .stringConvertible(result.replayed),
        ])
        return BillingJSON.idempotent(result)
    }
}
