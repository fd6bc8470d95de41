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
        guard let stored = try await storeCard(clientID: clientID, methodID: methodID, customer: customer) else { throw BillingError.notFound("setup intent") }
        return stored
    }

    /// Stores the card `methodID` for the client, attaching it to the client's `customer` at
    /// Stripe when Stripe has not; `nil` when the card belongs to another customer or is no card.
    func storeCard(clientID: UUID, methodID: String, customer: String) async throws -> SavedCardRepository.Card? {
        var method = try await gateway.client.paymentMethod(id: methodID)
        if method.customer == nil {
            method = try await gateway.client.attachPaymentMethod(id: methodID, customer: customer, idempotencyKey: "steadfast-attach-\(methodID)-\(customer)")
        }
        guard method.customer == customer, let card = method.card else { return nil }
        let now = clock.now()
        let saved = SavedCardRepository.Card(
            id: method.id, clientID: clientID, brand: String(card.brand.prefix(20)), last4: String(card.last4.prefix(4)), expMonth: card.expMonth,
            expYear: card.expYear, isDefault: true, createdAt: now
        )
        return try await database.transaction { tx in
            let cards = SavedCardRepository(tx)
            let known = try await cards.find(id: saved.id, clientID: clientID) != nil
            let stored = try await cards.save(saved, now: now)
            if !known {
                try await AuditTrail.record(
                    tx, .paymentMethodAdded, object: AuditObject(rawType: "payment_method", id: saved.id),
                    after: ["brand": saved.brand, "last4": saved.last4, "expires": "\(saved.expMonth)/\(saved.expYear)"], account: clientID, now: now
                )
            }
            return stored
        }
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
        try await database.transaction { tx in
            let cards = SavedCardRepository(tx)
            // Removed at the same moment by another request: that one records it.
            guard let card = try await cards.find(id: id, clientID: clientID) else { return }
            try await cards.remove(id: id, clientID: clientID, now: now)
            try await AuditTrail.record(
                tx, .paymentMethodRemoved, object: AuditObject(rawType: "payment_method", id: id), before: ["brand": card.brand, "last4": card.last4],
                account: clientID, now: now
            )
        }
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
