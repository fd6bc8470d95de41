import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// Staff roles, invitations, disabling and API token scopes and expiry (docs/accounts.md,
/// "Staff permissions"), on both engines with a hand-moved clock.
@Suite struct StaffPermissionsTests {
    struct World {
        let db: any SQLDatabase
        let clock = ManualClock()
        var accounts: AccountService { AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: clock) }
        var tokens: APITokenService { APITokenService(database: db, clock: clock) }

        /// The first staff account, as a request would carry it (full access).
        func admin() async throws -> Account {
            let created = try await accounts.register(email: "admin-\(UUID().uuidString.prefix(6))@example.com", password: "correct horse battery", name: "Admin", role: .staff, sendVerification: false)
            return try #require(try await accounts.requestAccount(id: created.id))
        }

        func role(_ name: String, _ permissions: [StaffPermission], by admin: Account) async throws -> StaffRole {
            try await accounts.createStaffRole(by: admin, name: name, permissions: permissions.map(\.rawValue))
        }

        func invite(_ name: String, roles: [StaffRole], by admin: Account) async throws -> Account {
            let member = try await accounts.inviteStaff(by: admin, email: "\(name.lowercased())-\(UUID().uuidString.prefix(6))@example.com", name: name, roles: roles.map(\.name))
            return try #require(try await accounts.requestAccount(id: member.id))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func rolesGiveTheirPermissionsAndNobodyGrantsMoreThanTheyHold(_ engine: EngineKind) async throws {
        try await withDatabase(engine) { db in
            let w = World(db: db)
            let admin = try await w.admin()
            #expect(admin.permissions == Set(StaffPermission.allCases))
            let support = try await w.role("Support", [.supportReply, .clientsRead], by: admin)
            let managers = try await w.role("Staff managers", [.staffManage], by: admin)
            let sam = try await w.invite("Sam", roles: [support], by: admin)
            #expect(sam.permissions == [.supportReply, .clientsRead])
            #expect(StaffPolicy.allows(sam, .clientsRead) && !StaffPolicy.allows(sam, .billingRefund))

            // A staff manager without billing.refund can neither create a role with it, nor
            // give one that has it, nor change someone who holds more than they do.
            let mia = try await w.invite("Mia", roles: [managers, support], by: admin)
            await #expect(throws: StaffPolicy.Denied.self) { try await w.role("Refunds", [.billingRefund], by: mia) }
            let refunds = try await w.role("Refunds", [.billingRefund], by: admin)
            await #expect(throws: StaffPolicy.Denied.self) { try await w.accounts.updateStaff(by: mia, id: sam.id, disabled: nil, roles: ["Refunds"]) }
            await #expect(throws: StaffPolicy.Denied.self) { try await w.accounts.updateStaff(by: mia, id: admin.id, disabled: true, roles: nil) }
            await #expect(throws: StaffPolicy.Denied.self) { try await w.invite("Eve", roles: [refunds], by: mia) }
            // Within what she holds, she may.
            #expect(try await w.accounts.updateStaff(by: mia, id: sam.id, disabled: nil, roles: ["support"]).roleIDs == [support.id])
            // Without staff.manage nothing of this is allowed.
            await #expect(throws: StaffPolicy.Denied.self) { try await w.role("Mine", [], by: sam) }

            // Bad input names the field; a taken name is a conflict.
            await #expect(throws: BillingError.invalid("unknown permission \"billing.everything\" (known: \(StaffPermission.allCases.map(\.rawValue).joined(separator: ", ")))", field: "permissions")) {
                try await w.accounts.createStaffRole(by: admin, name: "X", permissions: ["billing.everything"])
            }
            await #expect(throws: BillingError.self) { try await w.role("support", [], by: admin) }
            await #expect(throws: BillingError.invalid("unknown role \"nope\"", field: "roles")) {
                try await w.accounts.updateStaff(by: admin, id: sam.id, disabled: nil, roles: ["nope"])
            }
            // Nobody changes themselves, and the last enabled full-access account stays.
            await #expect(throws: BillingError.self) { try await w.accounts.updateStaff(by: admin, id: admin.id, disabled: true, roles: nil) }
            let other = try await w.invite("Olga", roles: [], by: admin)
            _ = try await w.accounts.updateStaff(by: admin, id: other.id, disabled: nil, roles: ["Full access"])
            let olga = try #require(try await w.accounts.requestAccount(id: other.id))
            _ = try await w.accounts.updateStaff(by: olga, id: admin.id, disabled: true, roles: nil)
            #expect(try await w.accounts.requestAccount(id: admin.id) == nil)
            // Someone holding every permission through a role of their own still cannot take full
            // access from its last enabled holder.
            let everything = try await w.role("Everything", StaffPermission.allCases, by: olga)
            let max = try await w.invite("Max", roles: [everything], by: olga)
            await #expect(throws: BillingError.conflict("at least one enabled staff member must keep the Full access role")) {
                try await w.accounts.updateStaff(by: max, id: olga.id, disabled: true, roles: nil)
            }
            await #expect(throws: BillingError.conflict("at least one enabled staff member must keep the Full access role")) {
                try await w.accounts.updateStaff(by: max, id: olga.id, disabled: nil, roles: ["Everything"])
            }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func anInvitationMailsASetPasswordLinkAndDisablingEndsLogIns(_ engine: EngineKind) async throws {
        try await withDatabase(engine) { db in
            let w = World(db: db)
            let admin = try await w.admin()
            let sam = try await w.invite("Sam", roles: [], by: admin)
            let mail = try #require(try await db.first("SELECT to_address, text_body FROM mail_outbox WHERE template = 'staff_invite'"))
            #expect(try mail.string("to_address") == sam.email.value)
            let body = try mail.string("text_body")
            let token = try #require(body.firstMatch(of: /\/password-reset\/([0-9a-f]{64})/)?.1).description
            #expect(body.contains("Admin invited you") && body.contains("expires in 3 days"))
            // Nobody can log in before the link is used; afterwards, with the chosen password.
            await #expect(throws: AccountError.invalidCredentials) { try await w.accounts.authenticate(email: sam.email.value, password: "correct horse battery") }
            try await w.accounts.confirmPasswordReset(token: token, newPassword: "sam's own secret")
            #expect(try await w.accounts.authenticate(email: sam.email.value, password: "sam's own secret").id == sam.id)
            await #expect(throws: AccountError.invalidToken) { try await w.accounts.confirmPasswordReset(token: token, newPassword: "another secret") }
            // The link expires with accounts.staff_invite_ttl (default 72h).
            let late = try await w.invite("Late", roles: [], by: admin)
            let lateBody = try #require(try await db.first("SELECT text_body FROM mail_outbox WHERE to_address = \(late.email.value)")).string("text_body")
            let lateToken = try #require(lateBody.firstMatch(of: /\/password-reset\/([0-9a-f]{64})/)?.1).description
            w.clock.advance(by: 72 * 3600)
            await #expect(throws: AccountError.invalidToken) { try await w.accounts.confirmPasswordReset(token: lateToken, newPassword: "too late now") }

            // Disabled: no log-in, no request account, no token; enabled again: all back.
            let staffRole = try await w.role("Tokens", [.apiTokens, .clientsRead], by: admin)
            _ = try await w.accounts.updateStaff(by: admin, id: sam.id, disabled: nil, roles: [staffRole.name])
            let samNow = try #require(try await w.accounts.requestAccount(id: sam.id))
            let token2 = try await w.tokens.create(name: "cli", staff: samNow)
            #expect(try await w.tokens.authenticate(token: token2.token)?.account.permissions == [.apiTokens, .clientsRead])
            #expect(try await w.accounts.updateStaff(by: admin, id: sam.id, disabled: true, roles: nil).disabledAt != nil)
            await #expect(throws: AccountError.invalidCredentials) { try await w.accounts.authenticate(email: sam.email.value, password: "sam's own secret") }
            #expect(try await w.accounts.requestAccount(id: sam.id) == nil)
            #expect(try await w.tokens.authenticate(token: token2.token) == nil)
            _ = try await w.accounts.updateStaff(by: admin, id: sam.id, disabled: false, roles: nil)
            #expect(try await w.tokens.authenticate(token: token2.token) != nil)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func tokensHaveScopesWithinTheirOwnersPermissionsAndExpire(_ engine: EngineKind) async throws {
        try await withDatabase(engine) { db in
            let w = World(db: db)
            let admin = try await w.admin()
            // Scopes: a subset; the default is what the caller holds.
            let narrow = try await w.tokens.create(name: "read", staff: admin, scopes: ["clients.read", "api.tokens"], expiresIn: "1h")
            let reader = try #require(try await w.tokens.authenticate(token: narrow.token))
            #expect(reader.account.permissions == [.clientsRead, .apiTokens])
            #expect(reader.expiresAt == w.clock.now() + 3600)
            #expect(Set(try #require(try await w.tokens.create(name: "all", staff: admin).record.scopes)) == Set(StaffPermission.allCases))

            // A token never mints a token with more: not more permissions, not a longer life.
            await #expect(throws: StaffPolicy.Denied(decision: .missing(.billingRefund), granting: true)) {
                try await w.tokens.create(name: "more", staff: reader.account, scopes: ["clients.read", "billing.refund"], callerExpiresAt: reader.expiresAt)
            }
            let inherited = try await w.tokens.create(name: "default", staff: reader.account, callerExpiresAt: reader.expiresAt)
            #expect(inherited.record.scopes == [.clientsRead, .apiTokens] && inherited.record.expiresAt == reader.expiresAt)
            await #expect(throws: BillingError.self) {
                try await w.tokens.create(name: "longer", staff: reader.account, scopes: ["clients.read"], expiresIn: "2h", callerExpiresAt: reader.expiresAt)
            }
            let child = try await w.tokens.create(name: "child", staff: reader.account, scopes: ["clients.read"], callerExpiresAt: reader.expiresAt)
            #expect(child.record.expiresAt == reader.expiresAt)
            // Without api.tokens, no minting at all.
            let plain = try #require(try await w.tokens.authenticate(token: child.token))
            await #expect(throws: StaffPolicy.Denied.self) { try await w.tokens.create(name: "x", staff: plain.account, scopes: []) }

            // Bad expiry input names the field (the one duration grammar).
            for bad in ["soon", "30", "10s", "-1h"] {
                await #expect(throws: BillingError.self) { try await w.tokens.create(name: "bad", staff: admin, expiresIn: bad) }
            }

            // Scopes are cut to the owner's current permissions: a role change narrows the token.
            let support = try await w.role("Support", [.supportReply, .apiTokens], by: admin)
            let sam = try await w.invite("Sam", roles: [support], by: admin)
            let samToken = try await w.tokens.create(name: "sam", staff: sam)
            _ = try await w.accounts.updateStaff(by: admin, id: sam.id, disabled: nil, roles: [])
            #expect(try await w.tokens.authenticate(token: samToken.token)?.account.permissions == [])

            // Expiry: the token works until its time and not a moment after.
            w.clock.advance(by: 3599)
            #expect(try await w.tokens.authenticate(token: narrow.token) != nil)
            w.clock.advance(by: 1)
            #expect(try await w.tokens.authenticate(token: narrow.token) == nil)
            #expect(try await w.tokens.authenticate(token: child.token) == nil)

            // Own tokens only: another's token is listed nowhere and cannot be revoked.
            #expect(try await w.tokens.list(for: admin).contains { $0.id == samToken.record.id } == false)
            let samWithoutRoles = try #require(try await w.accounts.requestAccount(id: sam.id))
            await #expect(throws: StaffPolicy.Denied.self) { try await w.tokens.revoke(id: samToken.record.id, for: samWithoutRoles) }
            await #expect(throws: BillingError.notFound("API token")) { try await w.tokens.revoke(id: samToken.record.id, for: admin) }
        }
    }
}
