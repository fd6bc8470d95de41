import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Testing

@Suite struct AccountRepositoryTests {
    func account(_ email: String, role: Role = .client) throws -> Account {
        Account(id: UUID(), email: try EmailAddress(email), name: "Test", role: role, passwordHash: "$2b$04$hash", createdAt: Date())
    }

    @Test(arguments: EngineKind.allCases)
    func insertsFindsAndRefusesDuplicateEmails(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let repository = AccountRepository(database: db)
            let alice = try account("Alice@Example.com")
            try await repository.insert(alice)
            #expect(try await repository.find(id: alice.id)?.email.value == "Alice@Example.com")
            #expect(try await repository.find(email: EmailAddress("alice@example.COM"))?.id == alice.id)
            #expect(try await repository.find(id: UUID()) == nil)
            await #expect(throws: AccountError.duplicateEmail) {
                try await repository.insert(try account("ALICE@example.com"))
            }
            try await repository.insert(try account("staff@example.com", role: .staff))
            #expect(try await repository.count(role: .client) == 1)
            #expect(try await repository.count(role: .staff) == 1)
        }
    }
}

@Suite struct SettingsRepositoryTests {
    @Test(arguments: EngineKind.allCases)
    func racingWritersAllSeeTheSameValue(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let settings = SettingsRepository(database: db)
            let values = try await withThrowingTaskGroup(of: String.self) { group in
                for i in 0..<12 {
                    group.addTask { try await settings.valueSettingIfAbsent("cluster_secret", candidate: "candidate-\(i)", now: Date()) }
                }
                var all: Set<String> = []
                for try await value in group { all.insert(value) }
                return all
            }
            #expect(values.count == 1)
            #expect(try await settings.value(for: "cluster_secret") == values.first)
        }
    }
}
