import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// A client's saved cards under `/api/v1/me/payment-methods` (docs/billing.md, "Saved cards").
/// Every look-up carries the caller's id: another client's card is 404. Without the stripe
/// gateway every route is 404.
struct SavedCardsAPIController: Sendable {
    let billing: BillingWeb

    struct Save: Decodable {
        let setupIntent: String
    }

    struct CardView: Encodable {
        let id: String
        let brand: String
        let last4: String
        let expMonth: Int
        let expYear: Int
        let isDefault: Bool
        let createdAt: Date

        init(_ card: SavedCardRepository.Card) {
            id = card.id
            brand = card.brand
            last4 = card.last4
            expMonth = card.expMonth
            expYear = card.expYear
            isDefault = card.isDefault
            createdAt = card.createdAt
        }
    }

    struct SetupView: Encodable {
        let setupIntent: String
        let clientSecret: String?
        let publishableKey: String?
    }

    func addRoutes(to api: RouterGroup<PortalRequestContext>) {
        let cards = api.group("me/payment-methods").add(middleware: RequireClientPermission(.billing))
        cards.get(use: list)
        cards.post("setup", use: setup)
        cards.post(use: save)
        cards.delete("{id}", use: remove)
    }

    /// The Stripe payments of a logged-in client (404 without the stripe gateway). The group's
    /// ``RequireClientPermission`` has refused a client's user without `billing` already, before
    /// this 404 too, so such a user gets the same answer everywhere; the service asks again.
    func client(_ context: PortalRequestContext) throws -> (Account, StripePayments) {
        let account = try context.requireAccount()
        guard let stripe = billing.stripe else { throw BillingError.notFound("payment methods") }
        return (account, stripe)
    }

    @Sendable func list(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let (account, stripe) = try client(context)
        return try await context.pagedJSON(request, item: CardView.init) { try await stripe.cards(for: account, limit: $0, offset: $1) }
    }

    @Sendable func setup(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let (account, stripe) = try client(context)
        let setup = try await stripe.startCardSetup(for: account, idempotencyKey: request.headers[BillingJSON.idempotencyKey])
        return try context.responseEncoder.encode(
            SetupView(setupIntent: setup.id, clientSecret: setup.clientSecret, publishableKey: stripe.gateway.publishableKey), status: .created, from: request, context: context
        )
    }

    @Sendable func save(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let (account, stripe) = try client(context)
        let input = try await request.decode(as: Save.self, context: context)
        return try context.responseEncoder.encode(CardView(try await stripe.saveCard(for: account, setupIntentID: input.setupIntent)), status: .created, from: request, context: context)
    }

    @Sendable func remove(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let (account, stripe) = try client(context)
        guard let id = context.parameters.get("id") else { throw BillingError.notFound("payment method") }
        try await stripe.removeCard(for: account, id: id)
        return Response(status: .noContent)
    }
}
