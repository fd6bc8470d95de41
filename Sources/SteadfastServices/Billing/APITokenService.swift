import Crypto
import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Staff API tokens: created by staff, sent as `Authorization: Bearer sft_…`, stored only as
/// SHA-256, revocable, with scopes (a subset of the owner's permissions) and an optional expiry.
/// A token acts as the staff member who created it, within its scopes, and stops working if
/// that account is disabled or no longer staff.
public struct APITokenService: Sendable {
    let database: any SQLDatabase
    let clock: any WallClock

    public init(database: any SQLDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Creates a token for `staff` (the caller: `api.tokens`); the token text is returned once
    /// and never stored. `scopes` (default: every permission the caller holds now) must be a
    /// subset of what the caller holds in this request — for a caller authenticated by a token,
    /// that token's scopes — so no token can mint a token with more. `expiresIn` uses the
    /// duration grammar (`30d`); a token made with a token never outlives it (`callerExpiresAt`).
    public func create(
        name raw: String, staff: Account, scopes names: [String]? = nil, expiresIn: String? = nil, callerExpiresAt: Date? = nil
    ) async throws -> (record: APITokenRepository.Record, token: String) {
        try StaffPolicy.require(.apiTokens, of: staff)
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw BillingError.invalid("a token name of 1-100 characters is required", field: "name") }
        let scopes: Set<StaffPermission>
        do throws(StaffPolicy.Invalid) {
            scopes = try names.map { names throws(StaffPolicy.Invalid) in try StaffPermission.parse(names) } ?? staff.permissions
        } catch { throw BillingError.invalid(error.message, field: "scopes") }
        try StaffPolicy.requireGrantable(scopes, by: staff)
        var expiry = callerExpiresAt
        if let expiresIn {
            guard let duration = DurationText.parse(expiresIn, bareNumberIsSeconds: false), duration >= .seconds(60), duration <= .seconds(3650 * 86_400) else {
                throw BillingError.invalid("expires_in must be a duration from 1m to 3650d, such as 30d", field: "expires_in")
            }
            let requested = clock.now() + duration.totalSeconds
            if let callerExpiresAt, requested > callerExpiresAt {
                throw BillingError.invalid("a token made with a token cannot outlive it (it expires \(Timestamp.iso(callerExpiresAt)))", field: "expires_in")
            }
            expiry = requested
        }
        let expiresAt = expiry
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let token = "sft_" + Self.hex(bytes)
        let id = UUID()
        let now = clock.now()
        try await database.transaction { tx in
            try await APITokenRepository(tx).insert(id: id, name: name, tokenHash: Self.hash(token), accountID: staff.id, scopes: scopes, expiresAt: expiresAt, now: now)
            try await AuditTrail.record(tx, .apiTokenCreated, object: AuditObject("api_token", id), after: ["name": name], now: now)
        }
        return (APITokenRepository.Record(id: id, name: name, accountID: staff.id, createdAt: now, lastUsedAt: nil, revokedAt: nil, scopes: scopes, expiresAt: expiresAt), token)
    }

    /// What a request authenticated by a token acts as: the owner with the token's permissions
    /// (its scopes within the owner's current ones), and the token's expiry.
    public struct Authenticated: Sendable {
        /// The token's id (what the audit trail records as the actor).
        public let id: UUID
        public let account: Account
        public let expiresAt: Date?
    }

    /// The staff account a token acts as, or `nil` for an unknown, revoked or expired token, or
    /// one whose owner is disabled or no longer staff. Checked against the database on every
    /// request, so disabling the owner on one node stops the token on every node at once.
    public func authenticate(token: String) async throws -> Authenticated? {
        guard token.hasPrefix("sft_"), token.utf8.count == 68 else { return nil }
        let repository = APITokenRepository(database)
        let now = clock.now()
        guard let record = try await repository.find(tokenHash: Self.hash(token)), record.expiresAt.map({ now < $0 }) ?? true,
              var account = try await AccountRepository(database: database).find(id: record.accountID), account.role == .staff, account.disabledAt == nil
        else { return nil }
        let owner = try await StaffRepository(database).permissions(accountID: account.id)
        account.permissions = record.scopes.map { $0.intersection(owner) } ?? owner
        try await repository.touch(id: record.id, now: now)
        return Authenticated(id: record.id, account: account, expiresAt: record.expiresAt)
    }

    /// The caller's own tokens, newest first.
    public func list(for staff: Account) async throws -> [APITokenRepository.Record] {
        try StaffPolicy.require(.apiTokens, of: staff)
        return try await APITokenRepository(database).list(accountID: staff.id)
    }

    /// One page of the caller's own tokens (`APITokenRepository.sortColumns`), optionally in one state.
    public func list(for staff: Account, state: APITokenRepository.State?, sort: ListSort?, limit: Int, offset: Int) async throws -> [APITokenRepository.Record] {
        try StaffPolicy.require(.apiTokens, of: staff)
        return try await APITokenRepository(database).list(accountID: staff.id, state: state, now: clock.now(), sort: sort, limit: limit, offset: offset)
    }

    /// Revokes one of the caller's own tokens (another account's is 404).
    public func revoke(id: UUID, for staff: Account) async throws {
        try StaffPolicy.require(.apiTokens, of: staff)
        let now = clock.now()
        try await database.transaction { tx in
            guard try await APITokenRepository(tx).revoke(id: id, accountID: staff.id, now: now) else { throw BillingError.notFound("API token") }
            try await AuditTrail.record(tx, .apiTokenRevoked, object: AuditObject("api_token", id), now: now)
        }
    }

    static func hash(_ token: String) -> String {
        hex(SHA256.hash(data: Data(token.utf8)))
    }

    /// Lower-case hex of `bytes` (by table: `String(format:)` per byte is slow).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

}

