import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import Testing
import SteadfastTestSupport

@Suite struct AccountServiceTests {
    func service(_ db: any SQLDatabase) -> AccountService {
        AccountService(database: db, hasher: PasswordHasher(cost: 4))
    }

    @Test(arguments: EngineKind.allCases)
    func registersAndAuthenticatesWithBcrypt(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let accounts = service(db)
            let account = try await accounts.register(email: "bob@example.com", password: "correct horse battery", name: "Bob")
            #expect(account.passwordHash.hasPrefix("$2b$04$"))
            #expect(!account.passwordHash.contains("correct horse"))
            #expect(try await accounts.authenticate(email: "BOB@example.com", password: "correct horse battery").id == account.id)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func wrongPasswordAndUnknownEmailGiveTheSameError(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let accounts = service(db)
            _ = try await accounts.register(email: "bob@example.com", password: "correct horse battery", name: "Bob")
            await #expect(throws: AccountError.invalidCredentials) {
                try await accounts.authenticate(email: "bob@example.com", password: "wrong horse battery")
            }
            await #expect(throws: AccountError.invalidCredentials) {
                try await accounts.authenticate(email: "nobody@example.com", password: "correct horse battery")
            }
            await #expect(throws: AccountError.invalidCredentials) {
                try await accounts.authenticate(email: "not an email", password: "x")
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func registrationValidatesEveryField(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let accounts = service(db)
            await #expect(throws: AccountError.self) { try await accounts.register(email: "bad", password: "correct horse battery", name: "B") }
            await #expect(throws: AccountError.self) { try await accounts.register(email: "b@example.com", password: "short", name: "B") }
            await #expect(throws: AccountError.self) { try await accounts.register(email: "b@example.com", password: "correct horse battery", name: " ") }
            _ = try await accounts.register(email: "b@example.com", password: "correct horse battery", name: "B")
            await #expect(throws: AccountError.duplicateEmail) {
                try await accounts.register(email: "B@EXAMPLE.COM", password: "another good passphrase", name: "B2")
            }
        }
    }

    /// Nodes starting together create exactly one first staff account.
    @Test(arguments: EngineKind.allCases)
    func exactlyOneFirstStaffAccountUnderConcurrency(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let outcomes = try await withThrowingTaskGroup(of: AccountService.FirstStaffOutcome.self) { group in
                for _ in 0..<5 {
                    group.addTask { try await service(db).ensureFirstStaffAccount(email: nil, password: nil) }
                }
                var all: [AccountService.FirstStaffOutcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let created = outcomes.compactMap { outcome -> String? in
                if case .created(_, let password) = outcome { return password }
                return nil
            }
            #expect(created.count == 1)
            #expect(try await AccountRepository(database: db).count(role: .staff) == 1)
            let password = try #require(created.first)
            #expect(try await service(db).authenticate(email: "admin@steadfast.local", password: password).role == .staff)
            #expect(try await service(db).ensureFirstStaffAccount(email: nil, password: nil) == .alreadyPresent)
        }
    }
}
