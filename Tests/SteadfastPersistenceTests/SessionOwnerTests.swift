import Foundation
import SteadfastDomain
@testable import SteadfastPersistence
@testable import SteadfastSessions
import SteadfastTestSupport
import Testing

/// Every request needs its session and the session's account: one query reads both
/// (`SessionRecordRepository.find`), and the account comes with what a request acts with —
/// staff permissions included — exactly as `AccountRepository.findForRequest` reads it alone.
@Suite struct SessionOwnerTests {
    struct Owned: Codable, Sendable, SessionOwned {
        var owner: UUID
        var sessionOwnerID: UUID? { owner }
    }

    static func account(_ db: any SQLDatabase, _ role: Role, disabled: Bool = false) async throws -> Account {
        let id = UUID()
        let account = Account(
            id: id, email: try EmailAddress("\(role.rawValue)-\(id.uuidString.prefix(8))@example.com"), name: "Owner", role: role,
            passwordHash: "x", createdAt: Date(timeIntervalSince1970: 1_700_000_000), disabledAt: disabled ? Date(timeIntervalSince1970: 1_700_000_100) : nil
        )
        try await AccountRepository(database: db).insert(account)
        if disabled { try await StaffRepository(db).setDisabled(accountID: id, at: account.disabledAt, now: account.createdAt) }
        return account
    }

    /// The owner the driver leaves in the request's ``SessionLoad`` for a session of `account`.
    static func ownerReadWithSession(_ db: any SQLDatabase, _ account: Account) async throws -> Account? {
        let driver = DatabasePersistDriver(database: db)
        let key = "session.\(UUID().uuidString)"
        try await driver.create(key: key, value: Owned(owner: account.id), expires: .seconds(600))
        let (value, owner) = try await SessionLoad.withRecord { () async throws -> (Owned?, Account?) in
            (try await driver.get(key: key, as: Owned.self), SessionLoad.current?.owner)
        }
        #expect(value?.owner == account.id)
        return owner
    }

    @Test(arguments: EngineKind.allCases)
    func aClientsSessionBringsItsAccount(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let client = try await Self.account(db, .client)
            let owner = try #require(try await Self.ownerReadWithSession(db, client))
            #expect(owner.id == client.id && owner.role == .client && owner.permissions.isEmpty)
            #expect(owner == (try await AccountRepository(database: db).findForRequest(id: client.id)))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aStaffSessionBringsItsRolesPermissions(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let staff = StaffRepository(db)
            // No role: no permission.
            let bare = try await Self.account(db, .staff)
            #expect(try #require(try await Self.ownerReadWithSession(db, bare)).permissions.isEmpty)
            // Two custom roles: the union of theirs.
            let member = try await Self.account(db, .staff)
            let billing = StaffRole(id: UUID(), name: "Billing", permissions: [.billingManage, .clientsRead], builtIn: false)
            let reader = StaffRole(id: UUID(), name: "Reader", permissions: [.clientsRead, .clientsWrite], builtIn: false)
            #expect(try await staff.insert(billing, now: Date()))
            #expect(try await staff.insert(reader, now: Date()))
            try await staff.setRoles(accountID: member.id, roleIDs: [billing.id, reader.id])
            let owner = try #require(try await Self.ownerReadWithSession(db, member))
            #expect(owner.permissions == [.billingManage, .clientsRead, .clientsWrite])
            #expect(try await staff.permissions(accountID: member.id) == owner.permissions)
            // The built-in role: every permission.
            let admin = try await Self.account(db, .staff)
            try await staff.setRoles(accountID: admin.id, roleIDs: [StaffRole.fullAccessID, billing.id])
            #expect(try #require(try await Self.ownerReadWithSession(db, admin)).permissions == Set(StaffPermission.allCases))
            #expect(try await staff.permissions(accountID: admin.id) == Set(StaffPermission.allCases))
        }
    }

    /// The owner is read as it is: a disabled account comes back disabled (the authentication
    /// middleware then logs nobody in), and a session without an owner brings none.
    @Test(arguments: EngineKind.allCases)
    func disabledAndMissingOwners(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let disabled = try await Self.account(db, .staff, disabled: true)
            #expect(try #require(try await Self.ownerReadWithSession(db, disabled)).disabledAt != nil)
            let driver = DatabasePersistDriver(database: db)
            try await driver.create(key: "session.anonymous", value: ["flash": "hello"], expires: .seconds(600))
            let (value, owner) = try await SessionLoad.withRecord { () async throws -> ([String: String]?, Account?) in
                (try await driver.get(key: "session.anonymous", as: [String: String].self), SessionLoad.current?.owner)
            }
            #expect(value == ["flash": "hello"])
            #expect(owner == nil)
        }
    }
}
