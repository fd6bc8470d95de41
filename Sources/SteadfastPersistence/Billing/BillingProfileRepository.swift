import Foundation
import SteadfastDomain

/// Clients' billing details (`billing_profiles`). The profile row doubles as the client's
/// billing lock: every money-moving transaction for a client starts with ``lock(clientID:defaults:now:)``,
/// so they run one after another per client on PostgreSQL (SQLite runs all writers in turn).
public struct BillingProfileRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    public func find(clientID: UUID) async throws -> BillingProfile? {
        try await db.first("SELECT * FROM billing_profiles WHERE client_id = \(clientID)").map(Self.profile)
    }

    /// The profile, created from `defaults` if the client has none; throws
    /// ``BillingErrorKind/notFound`` if there is no such account.
    public func ensure(clientID: UUID, defaults: BillingProfile, now: Date) async throws -> BillingProfile {
        if let existing = try await find(clientID: clientID) { return existing }
        do {
            try await db.query("""
                INSERT INTO billing_profiles (client_id, country, region, tax_exempt, currency, created_at, updated_at)
                SELECT \(clientID), \(defaults.country), \(defaults.region), \(defaults.taxExempt), \(defaults.currency.code), \(now), \(now)
                WHERE EXISTS (SELECT 1 FROM accounts WHERE id = \(clientID))
                ON CONFLICT (client_id) DO NOTHING
                """)
        } catch let error as DatabaseError where error.kind == .constraintViolation {
            throw BillingError.notFound("client")
        }
        guard let profile = try await find(clientID: clientID) else { throw BillingError.notFound("client") }
        return profile
    }

    /// Ensures the profile exists and locks its row until the transaction ends (PostgreSQL).
    public func lock(clientID: UUID, defaults: BillingProfile, now: Date) async throws -> BillingProfile {
        let locking: SQL = "SELECT * FROM billing_profiles WHERE client_id = \(clientID)\(SQL.forUpdate(db.dialect))"
        if let row = try await db.first(locking) { return try Self.profile(row) }
        _ = try await ensure(clientID: clientID, defaults: defaults, now: now)
        guard let row = try await db.first(locking) else { throw BillingError.notFound("client") }
        return try Self.profile(row)
    }

    public func update(_ profile: BillingProfile, now: Date) async throws {
        try await db.query("""
            UPDATE billing_profiles SET country = \(profile.country), region = \(profile.region), tax_exempt = \(profile.taxExempt),
                currency = \(profile.currency.code), legal_name = \(profile.legalName), address = \(profile.address), tax_id = \(profile.taxID),
                updated_at = \(now)
            WHERE client_id = \(profile.clientID)
            """)
    }

    static func profile(_ row: SQLRow) throws -> BillingProfile {
        BillingProfile(
            clientID: try row.uuid("client_id"), country: try row.optionalString("country"), region: try row.optionalString("region"),
            taxExempt: try row.bool("tax_exempt"), currency: try row.currency(), legalName: try row.optionalString("legal_name"),
            address: try row.optionalString("address"), taxID: try row.optionalString("tax_id")
        )
    }
}
