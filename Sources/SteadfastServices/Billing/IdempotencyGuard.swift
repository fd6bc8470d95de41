import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Runs an operation at most once per idempotency key, cluster-wide, and answers retries with
/// the original result.
///
/// The operation and the record of its answer are written in ONE transaction. Inside it the
/// caller's `lock` runs first (the client's billing row, see ``BillingProfileRepository``), then
/// the key is looked up again: a concurrent request with the same key that got the lock first
/// has committed by then, so its answer is found and returned. Should two transactions still
/// collide (a key used across clients' locks), the unique key makes one fail, and that one
/// reads back and returns the winner's answer.
struct IdempotencyGuard: Sendable {
    let database: any SQLDatabase
    let clock: any WallClock

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// Checks a client-supplied key: 1-200 printable ASCII characters.
    static func validate(_ key: String?) throws(BillingError) -> String {
        guard let key, !key.isEmpty else {
            throw BillingError.invalid("send an Idempotency-Key header (any unique string, e.g. a UUID) so a retried request cannot pay twice", field: "Idempotency-Key")
        }
        guard key.utf8.count <= 200, key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw BillingError.invalid("Idempotency-Key must be 1-200 printable ASCII characters without spaces", field: "Idempotency-Key")
        }
        return key
    }

    private enum Outcome<T: Sendable>: Sendable {
        case fresh(T, String)
        case stored(IdempotencyRepository.Record)
    }

    func run<T: Codable & Sendable>(
        key: String, fingerprint: String,
        lock: @escaping @Sendable (any SQLExecutor) async throws -> Void,
        _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> IdempotentResult<T> {
        if let stored = try await IdempotencyRepository(database).find(key: key) {
            return try replay(stored, fingerprint: fingerprint)
        }
        let now = clock.now()
        let outcome: Outcome<T>
        do {
            outcome = try await database.transaction { tx in
                try await lock(tx)
                let records = IdempotencyRepository(tx)
                if let stored = try await records.find(key: key) { return Outcome<T>.stored(stored) }
                let value = try await body(tx)
                let json = String(decoding: try Self.encoder.encode(value), as: UTF8.self)
                try await records.insert(key: key, fingerprint: fingerprint, response: json, now: now)
                return .fresh(value, json)
            }
        } catch let error as DatabaseError where error.kind == .uniqueViolation {
            if let stored = try await IdempotencyRepository(database).find(key: key) {
                return try replay(stored, fingerprint: fingerprint)
            }
            throw BillingError.conflict("this payment has already been recorded under another key")
        }
        switch outcome {
        case .fresh(_, let json):
            // Answer from the stored form, so the first answer and every replay are the same.
            return IdempotentResult(value: try JSONDecoder().decode(T.self, from: Data(json.utf8)), json: json, replayed: false)
        case .stored(let stored):
            return try replay(stored, fingerprint: fingerprint)
        }
    }

    /// The stored answer under `key`, if there is one (for callers that must not call a
    /// payment provider again for a request already answered).
    func stored<T: Codable & Sendable>(key: String, fingerprint: String) async throws -> IdempotentResult<T>? {
        guard let stored = try await IdempotencyRepository(database).find(key: key) else { return nil }
        return try replay(stored, fingerprint: fingerprint)
    }

    private func replay<T: Codable & Sendable>(_ stored: IdempotencyRepository.Record, fingerprint: String) throws -> IdempotentResult<T> {
        guard stored.fingerprint == fingerprint else {
            throw BillingError(.idempotencyMismatch, "this Idempotency-Key was already used for a different request", field: "Idempotency-Key")
        }
        return IdempotentResult(value: try JSONDecoder().decode(T.self, from: Data(stored.response.utf8)), json: stored.response, replayed: true)
    }
}

extension IdempotencyGuard {
    /// A payment gateway's notification, applied once under `key` (a replay answers the first
    /// result): ``run(key:fingerprint:lock:_:)`` under the client's billing lock, `body` given a
    /// ledger at `now`, and everything it records in the audit trail is the gateway's doing (from
    /// the request's address). The test card's and Stripe's webhooks both go through here.
    func runNotification<T: Codable & Sendable>(
        from gateway: String, key: String, fingerprint: String, clientID: UUID, settings: BillingSettings, now: Date,
        _ body: @escaping @Sendable (_ ledger: BillingLedger, _ tx: any SQLExecutor) async throws -> T
    ) async throws -> IdempotentResult<T> {
        var origin = AuditTrail.origin
        origin.actor = .gateway(gateway)
        return try await AuditTrail.$origin.withValue(origin) {
            try await run(key: key, fingerprint: fingerprint, lock: PaymentService.clientLock(clientID, settings: settings, now: now)) { tx in
                try await body(BillingLedger(tx: tx, settings: settings, now: now), tx)
            }
        }
    }
}
