import Crypto
import Foundation
import Hummingbird
import SteadfastPersistence
import SteadfastSessions
import Testing
import SteadfastTestSupport

@Suite struct SessionDriverTests {
    struct Payload: Codable, Sendable, Equatable {
        var user: String
        var counter: Int
    }

    @Test(arguments: EngineKind.allCases)
    func storesOnlyTheHashOfTheKey(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let driver = DatabasePersistDriver(database: db)
            let key = "session.raw-session-id-123"
            try await driver.set(key: key, value: Payload(user: "u", counter: 1), expires: .seconds(60))
            let rows = try await db.query("SELECT id_hash FROM sessions")
            #expect(rows.count == 1)
            let stored = try rows[0].string("id_hash")
            #expect(stored != key && !stored.contains("raw-session-id"))
            #expect(stored == SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined())
            #expect(try await driver.get(key: key, as: Payload.self) == Payload(user: "u", counter: 1))
            #expect(try await driver.get(key: "session.other", as: Payload.self) == nil)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func expiryAndTimeToLiveFollowTheClock(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let driver = DatabasePersistDriver(database: db, clock: clock)
            try await driver.set(key: "k", value: Payload(user: "u", counter: 1), expires: .seconds(100))
            clock.advance(by: 40)
            let (value, ttl) = try #require(try await driver.getWithTTL(key: "k", as: Payload.self))
            #expect(value.counter == 1)
            #expect(ttl == .seconds(60))
            // An update without an expiry keeps the old one.
            try await driver.set(key: "k", value: Payload(user: "u", counter: 2), expires: nil)
            #expect(try await driver.getWithTTL(key: "k", as: Payload.self)?.ttl == .seconds(60))
            clock.advance(by: 61)
            #expect(try await driver.get(key: "k", as: Payload.self) == nil)
            // Clean-up deletes expired rows only.
            try await driver.set(key: "fresh", value: Payload(user: "v", counter: 1), expires: .seconds(100))
            #expect(try await SessionRecordRepository(database: db).deleteExpired(now: clock.now()) == 1)
            #expect(try await db.query("SELECT id_hash FROM sessions").count == 1)
        }
    }

    /// A request still in flight on another node must not bring a logged-out session back.
    @Test(arguments: EngineKind.allCases)
    func aDeletedSessionIsNeverResurrected(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let driver = DatabasePersistDriver(database: db)
            try await driver.set(key: "k", value: Payload(user: "u", counter: 1), expires: .seconds(100))
            try await driver.remove(key: "k")
            #expect(try await driver.get(key: "k", as: Payload.self) == nil)
            try await driver.set(key: "k", value: Payload(user: "u", counter: 2), expires: .seconds(100))
            try await driver.set(key: "k", value: Payload(user: "u", counter: 3), expires: nil)
            #expect(try await driver.get(key: "k", as: Payload.self) == nil)
            await #expect(throws: PersistError.duplicate) {
                try await driver.create(key: "k", value: Payload(user: "u", counter: 4), expires: nil)
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func unreadableDataIsReportedAsInvalidConversion(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let driver = DatabasePersistDriver(database: db)
            try await driver.set(key: "k", value: ["unexpected": true], expires: .seconds(60))
            await #expect(throws: PersistError.invalidConversion) {
                try await driver.get(key: "k", as: Payload.self)
            }
        }
    }
}
