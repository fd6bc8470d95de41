import Foundation
import NIOPosix
@testable import SteadfastServices
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Testing

@Suite struct RateLimiterTests {
    /// The counter is one upsert: hits made at once (as from many nodes) are all counted, a new
    /// window starts again, and ended windows are cleaned up.
    @Test(arguments: EngineKind.allCases)
    func countersCountEveryHitAndRestartEachWindow(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let repository = RateLimitRepository(db)
            let end = Date(timeIntervalSince1970: 1_800_000_060)
            let counts = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<40 { group.addTask { try await repository.hit(bucket: "b", window: 7, expiresAt: end) } }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(counts.sorted() == Array(1...40))
            #expect(try await repository.hit(bucket: "other", window: 7, expiresAt: end) == 1)
            #expect(try await repository.hit(bucket: "b", window: 8, expiresAt: end.addingTimeInterval(60)) == 1)
            // A node whose clock is behind keeps counting in the newer window.
            #expect(try await repository.hit(bucket: "b", window: 7, expiresAt: end) == 2)
            #expect(try await repository.deleteExpired(now: end.addingTimeInterval(1)) == 1) // "other" ended
            #expect(try await repository.hit(bucket: "b", window: 8, expiresAt: end.addingTimeInterval(60)) == 3)
        }
    }

    /// Log-ins over the limit are refused before any password is checked, for known and unknown
    /// accounts alike; other accounts and a later window are not affected.
    @Test(arguments: EngineKind.allCases)
    func logInsAreLimitedPerAccountAndPerAddress(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let limiter = RateLimiter(database: db, limits: [
                .loginPerAccount: RateLimit(limit: 3, window: .seconds(900))!, .loginPerIP: RateLimit(limit: 7, window: .seconds(900))!,
            ], clock: clock)
            let accounts = AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: clock, limiter: limiter)
            _ = try await accounts.register(email: "bob@example.com", password: "correct horse battery", name: "Bob")
            for email in ["bob@example.com", "nobody@example.com"] {
                for _ in 0..<3 {
                    await #expect(throws: AccountError.invalidCredentials) { try await accounts.authenticate(email: email, password: "guess guess", clientIP: "192.0.2.1") }
                }
            }
            // The seventh attempt from this address is the last the address limit (7) allows.
            await #expect(throws: AccountError.invalidCredentials) { try await accounts.authenticate(email: "carol@example.com", password: "x", clientIP: "192.0.2.1") }
            await #expect(throws: RateLimited.self) { try await accounts.authenticate(email: "carol@example.com", password: "x", clientIP: "192.0.2.1") }
            // An unknown account is limited exactly like a known one: the limit reveals nothing.
            await #expect(throws: RateLimited.self) { try await accounts.authenticate(email: "nobody@example.com", password: "x", clientIP: "198.51.100.7") }
            // From elsewhere: the account limit (3) still holds, even for the right password.
            await #expect { try await accounts.authenticate(email: "BOB@example.com", password: "correct horse battery", clientIP: "198.51.100.7") } throws: { error in
                guard let limited = error as? RateLimited else { return false }
                return (1...900).contains(limited.retryAfterSeconds)
            }
            clock.advance(by: 900)
            #expect(try await accounts.authenticate(email: "bob@example.com", password: "correct horse battery", clientIP: "198.51.100.7").email.value == "bob@example.com")
        }
    }
}

/// bcrypt runs on its own bounded pool: a flood of password checks is refused past the bound
/// and never holds up NIO's shared pool, where SQLite writes and local file I/O run.
@Suite struct PasswordHasherTests {
    @Test func aFloodIsBoundedAndLeavesTheSharedPoolFree() async throws {
        let executor = BcryptExecutor(threads: 1, maximumWaiting: 4)
        let hasher = PasswordHasher(cost: 10, executor: executor)
        let hash = try await hasher.hash("correct horse battery")
        let outcomes = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<24 {
                group.addTask {
                    do { return try await hasher.verify("correct horse battery", hash: hash) } catch is PasswordHasher.Busy { return false }
                }
            }
            // While password checks are queued on their pool, the shared pool answers at once.
            for _ in 0..<100_000 where executor.inFlight == 0 { await Task.yield() }
            let sharedPoolRan = try await NIOThreadPool.singleton.runIfActive { true }
            #expect(sharedPoolRan && executor.inFlight > 0, "the shared pool waited for bcrypt")
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        let verified = outcomes.filter { $0 }.count
        #expect(verified >= 1 && verified < 24, "\(verified) of 24 checks ran; the rest must be refused as busy")
        #expect(executor.inFlight == 0)
    }
}
