import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Saved cards (docs/billing.md, "Saved cards"): the client's browser confirms a SetupIntent
/// with Stripe's card element; the portal then checks at Stripe that the SetupIntent is the
/// client's own and succeeded, attaches its card to the client's customer, and stores the card
/// (brand, last four digits, expiry: never the number). The newest saved card is the default,
/// which the automatic capture job charges.
extension StripePayments {
    /// Starts saving a card: a SetupIntent on the client's customer, for the card page.
    /// `key` is the client's `Idempotency-Key` (a retried request is the same SetupIntent at Stripe).
    public func startCardSetup(clientID: UUID, idempotencyKey key: String?) async throws -> GatewaySetup {
        let key = try IdempotencyGuard.validate(key)
        let customer = try await customer(for: clientID)
        return try await gateway.savePaymentMethod(customerID: customer, idempotencyKey: "steadfast-setup-\(clientID.uuidString.lowercased())-\(key)")
    }

    /// Stores the card of a confirmed SetupIntent. Another client's SetupIntent, or one whose
    /// card belongs to another customer, is "not found"; one not confirmed yet is a conflict.
    /// Saving the same card again changes nothing.
    public func saveCard(clientID: UUID, setupIntentID: String) async throws -> SavedCardRepository.Card {
        do { _ = try StripeClient.pathComponent(setupIntentID) } catch {
            throw BillingError.invalid("setup_intent must be a Stripe SetupIntent id such as seti_...", field: "setup_intent")
        }
        let customer = try await customer(for: clientID)
        let setup = try await gateway.client.setupIntent(id: setupIntentID)
        guard setup.customer == customer else { throw BillingError.notFound("setup intent") }
        guard setup.status == "succeeded", let methodID = setup.paymentMethod else {
            throw BillingError.conflict("the card is not confirmed yet (the SetupIntent is \(setup.status))", field: "setup_intent")
        }
        var method = try await gateway.client.paymentMethod(id: methodID)
        if method.customer == nil {
            method = try await gateway.client.attachPaymentMethod(id: methodID, customer: customer, idempotencyKey: "steadfast-attach-\(methodID)-\(customer)")
        }
        guard method.customer == customer else { throw BillingError.notFound("setup intent") }
        guard let card = method.card else { throw BillingError.invalid("only cards can be saved", field: "setup_intent") }
        let now = clock.now()
        let saved = SavedCardRepository.Card(
            id: method.id, clientID: clientID, brand: String(card.brand.prefix(20)), last4: String(card.last4.prefix(4)), expMonth: card.expMonth,
            expYear: card.expYear, isDefault: true, createdAt: now
        )
        let stored = try await database.transaction { tx in try await SavedCardRepository(tx).save(saved, now: now) }
        guard let stored else { throw BillingError.notFound("setup intent") }
        return stored
    }

    public func cards(clientID: UUID, limit: Int, offset: Int) async throws -> [SavedCardRepository.Card] {
        try await SavedCardRepository(database).list(clientID: clientID, limit: limit, offset: offset)
    }

    /// Removes one of the client's cards: detached at Stripe (it can no longer be charged), then
    /// marked removed. Another client's card is "not found".
    public func removeCard(clientID: UUID, id: String) async throws {
        guard try await SavedCardRepository(database).find(id: id, clientID: clientID) != nil else { throw BillingError.notFound("payment method") }
        do {
            _ = try await gateway.client.detachPaymentMethod(id: id, idempotencyKey: "steadfast-detach-\(id)")
        } catch let error as GatewayError where error.kind == .rejected {
            // Already detached (or deleted) at Stripe: nothing left to charge; remove it here too.
        }
        let now = clock.now()
        try await database.transaction { tx in try await SavedCardRepository(tx).remove(id: id, clientID: clientID, now: now) }
    }

    /// The PaymentIntents made for an invoice (status, dispute), oldest first.
    public func intents(invoiceID: UUID) async throws -> [StripeRepository.Intent] {
        try await StripeRepository(database).intents(invoiceID: invoiceID)
    }

    /// The automatic capture attempts of an invoice (staff view).
    public func captureAttempts(invoiceID: UUID) async throws -> [CaptureAttemptRepository.Attempt] {
        try await CaptureAttemptRepository(database).attempts(invoiceID: invoiceID)
    }
}
