import Foundation
import SteadfastDomain

/// The seller's identity printed on invoices (`company.*` in the `settings` table), edited by
/// staff; a key without a row takes the configured default, so the configuration is the
/// starting point and the database wins once staff save.
public struct CompanyIdentityRepository: Sendable {
    let db: any SQLExecutor

    public init(_ db: any SQLExecutor) {
        self.db = db
    }

    static let legalName = "company.legal_name", address = "company.address", taxID = "company.tax_id", bankDetails = "company.bank_details"

    /// The identity: each stored value, else the default's.
    public func load(defaults: InvoiceParty) async throws -> InvoiceParty {
        let keys = [Self.legalName, Self.address, Self.taxID, Self.bankDetails]
        var stored: [String: String] = [:]
        for row in try await db.query("SELECT key, value FROM settings WHERE key IN (\(keys[0]), \(keys[1]), \(keys[2]), \(keys[3]))") {
            stored[try row.string("key")] = try row.string("value")
        }
        func optional(_ key: String, _ fallback: String?) -> String? {
            guard let value = stored[key] else { return fallback }
            return value.isEmpty ? nil : value
        }
        return InvoiceParty(
            name: stored[Self.legalName] ?? defaults.name, address: stored[Self.address] ?? defaults.address, country: defaults.country,
            taxID: optional(Self.taxID, defaults.taxID), email: defaults.email, bankDetails: optional(Self.bankDetails, defaults.bankDetails)
        )
    }

    /// Stores every field (an empty tax id or bank details is stored as "", meaning none).
    public func save(_ identity: InvoiceParty, now: Date) async throws {
        let values = [
            (Self.legalName, identity.name), (Self.address, identity.address), (Self.taxID, identity.taxID ?? ""), (Self.bankDetails, identity.bankDetails ?? ""),
        ]
        for (key, value) in values {
            try await db.query("""
                INSERT INTO settings (key, value, updated_at) VALUES (\(key), \(value), \(now))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
                """)
        }
    }
}
