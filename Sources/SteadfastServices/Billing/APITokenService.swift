import Crypto
import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Staff API tokens: created by staff, sent as `Authorization: Bearer sft_…`, stored only as
/// SHA-256, revocable. A token acts as the staff member who created it, and stops working if
/// that account is no longer staff.
public struct APITokenService: Sendable {
    let database: any SQLDatabase
    let clock: any WallClock

    public init(database: any SQLDatabase, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    /// Creates a token for `staff`; the token text is returned once and never stored.
    public func create(name raw: String, staff: Account) async throws -> (record: APITokenRepository.Record, token: String) {
        guard staff.role == .staff else { throw BillingError(.notFound, "only staff can create API tokens") }
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 100 else { throw BillingError.invalid("a token name of 1-100 characters is required", field: "name") }
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let token = "sft_" + Self.hex(bytes)
        let id = UUID()
        let now = clock.now()
        let repository = APITokenRepository(database)
        try await repository.insert(id: id, name: name, tokenHash: Self.hash(token), accountID: staff.id, now: now)
        return (APITokenRepository.Record(id: id, name: name, accountID: staff.id, createdAt: now, lastUsedAt: nil, revokedAt: nil), token)
    }

    /// The staff account a token acts as, or `nil` for an unknown, revoked or orphaned token.
    public func authenticate(token: String) async throws -> Account? {
        guard token.hasPrefix("sft_"), token.utf8.count == 68 else { return nil }
        let repository = APITokenRepository(database)
        guard let record = try await repository.find(tokenHash: Self.hash(token)),
              let account = try await AccountRepository(database: database).find(id: record.accountID), account.role == .staff
        else { return nil }
        try await repository.touch(id: record.id, now: clock.now())
        return account
    }

    public func list() async throws -> [APITokenRepository.Record] {
        try await APITokenRepository(database).list()
    }

    public func revoke(id: UUID) async throws {
        guard try await APITokenRepository(database).revoke(id: id, now: clock.now()) else { throw BillingError.notFound("API token") }
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
