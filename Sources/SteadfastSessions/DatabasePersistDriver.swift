import Crypto
import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastPersistence

/// A Hummingbird `PersistDriver` that keeps values (sessions) in the shared database, so any
/// node can serve any request and a node restart logs nobody out.
///
/// Keys are never stored: only their SHA-256, so a leaked `sessions` table cannot be replayed as
/// cookies. Writes never resurrect a deleted session (see ``SessionRecordRepository``).
public struct DatabasePersistDriver: PersistDriver {
    let records: SessionRecordRepository
    let clock: any WallClock
    /// Lifetime given to a value written with no expiry and no existing row.
    let defaultLifetime: Duration

    public init(database: any SQLDatabase, clock: any WallClock = SystemWallClock(), defaultLifetime: Duration = .seconds(1800)) {
        self.records = SessionRecordRepository(database: database)
        self.clock = clock
        self.defaultLifetime = defaultLifetime
    }

    /// The hex SHA-256 of a key: what the `sessions.id_hash` column holds.
    public static func hash(key: String) -> String {
        // Hex by table, not String(format:) per byte: this runs on every request.
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(key.utf8)) {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
    /// One decoder for every session read (it keeps no state between calls).
    private static let decoder = JSONDecoder()

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let now = clock.now()
        let inserted = try await records.insert(
            idHash: Self.hash(key: key),
            data: try Self.encode(value),
            expiresAt: now + (expires ?? defaultLifetime),
            now: now,
            accountID: (value as? any SessionOwned)?.sessionOwnerID
        )
        if !inserted { throw PersistError.duplicate }
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let now = clock.now()
        let hash = Self.hash(key: key)
        let data = try Self.encode(value)
        let expiresAt = expires.map { now + $0 }
        if try await records.update(idHash: hash, data: data, expiresAt: expiresAt, now: now) { return }
        // No live row: create it, unless a row (for example a logged-out tombstone) exists.
        try await records.insert(
            idHash: hash, data: data, expiresAt: expiresAt ?? now + defaultLifetime, now: now,
            accountID: (value as? any SessionOwned)?.sessionOwnerID
        )
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        let now = clock.now()
        let found: SessionRecordRepository.Record?
        do {
            found = try await records.find(idHash: Self.hash(key: key), now: now)
        } catch {
            SessionLoad.current?.record(failure: error)
            throw error
        }
        guard let record = found else { return nil }
        SessionLoad.current?.record(owner: record.owner)
        let object: Object
        do {
            object = try Self.decoder.decode(Object.self, from: Data(record.data.utf8))
        } catch {
            throw PersistError.invalidConversion
        }
        return (object, now.duration(to: record.expiresAt))
    }

    public func remove(key: String) async throws {
        try await records.delete(idHash: Self.hash(key: key), now: clock.now())
    }

    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// A session value that belongs to an account: the driver records the owner in
/// `sessions.account_id`, so the account can list and end its sessions (docs/accounts.md).
public protocol SessionOwned {
    var sessionOwnerID: UUID? { get }
}
