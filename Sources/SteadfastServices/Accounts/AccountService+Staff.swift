import Foundation
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// Staff roles, invitations and disabling (docs/accounts.md, "Staff permissions"). Every method
/// that changes staff asks ``StaffPolicy`` itself: the service is the boundary, whichever page,
/// API route or tool calls it. Nobody can grant a permission they do not hold, nor change a
/// staff member who holds one they do not.
extension AccountService {
    /// The account a request acts as: `nil` when it is unknown or disabled; staff carry their
    /// roles' permissions. Read from the database on every request, so a change made on one
    /// node (disabling, new roles) holds on every node from the next request on.
    public func requestAccount(id: UUID) async throws -> Account? {
        Self.requestable(try await accounts.findForRequest(id: id))
    }

    /// `account` (read for a request, as with its session) if it may act: `nil` when disabled.
    public static func requestable(_ account: Account?) -> Account? {
        account?.disabledAt == nil ? account : nil
    }

    public func staffRoles() async throws -> [StaffRole] {
        try await StaffRepository(database).roles()
    }

    /// Creates a role (`staff.manage`; only permissions the actor holds). A taken name is 409.
    public func createStaffRole(by actor: Account, name rawName: String, permissions names: [String]) async throws -> StaffRole {
        try StaffPolicy.require(.staffManage, of: actor)
        let name: String, permissions: Set<StaffPermission>
        do throws(StaffPolicy.Invalid) {
            name = try StaffRole.validateName(rawName)
        } catch { throw BillingError.invalid(error.message, field: "name") }
        do throws(StaffPolicy.Invalid) {
            permissions = try StaffPermission.parse(names)
        } catch { throw BillingError.invalid(error.message, field: "permissions") }
        try StaffPolicy.requireGrantable(permissions, by: actor)
        let role = StaffRole(id: UUID(), name: name, permissions: permissions, builtIn: false)
        let now = clock.now()
        let inserted = try await database.transaction { tx in
            try await ShortList.staffRoles.requireRoom(in: tx, refusing: BillingErrorKind.self)
            guard try await StaffRepository(tx).insert(role, now: now) else { return false }
            try await AuditTrail.record(
                tx, .staffRoleCreated, object: AuditObject("staff_role", role.id),
                after: ["name": name, "permissions": permissions.map(\.rawValue).sorted().joined(separator: ",")], now: now
            )
            return true
        }
        guard inserted else {
            throw BillingError.conflict("a role named \"\(name)\" exists already", field: "name")
        }
        return role
    }

    /// A page of staff accounts with their roles.
    public func staffMembers(disabled: Bool? = nil, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [StaffRepository.Member] {
        try await StaffRepository(database).members(disabled: disabled, sort: sort, limit: limit, offset: offset)
    }

    /// Invites a member of staff (`staff.manage`): the account is created with `roles` and no
    /// usable password, and a single-use set-password link (the password-reset machinery, valid
    /// `accounts.staff_invite_ttl`) is mailed through the outbox in the same transaction.
    public func inviteStaff(by actor: Account, email rawEmail: String, name rawName: String, roles references: [String]) async throws -> StaffRepository.Member {
        try StaffPolicy.require(.staffManage, of: actor)
        let email = try EmailAddress(rawEmail)
        let name = try Account.validateName(rawName)
        let roles = try await resolveRoles(references)
        try StaffPolicy.requireGrantable(Self.union(roles), by: actor)
        // Nobody knows this password: the invitee sets theirs through the link.
        let account = Account(id: UUID(), email: email, name: name, role: .staff, passwordHash: try await hasher.hash(Self.randomPassword() + Self.randomPassword()), createdAt: clock.now())
        let token = LinkToken.generate()
        let now = clock.now()
        let ttl = settings.staffInviteTTL
        try await database.transaction { tx in
            try await AccountRepository.insert(account, into: tx)
            try await StaffRepository(tx).setRoles(accountID: account.id, roleIDs: Set(roles.map(\.id)))
            try await AccountSelfServiceRepository(tx).insertToken(
                hash: token.hash, accountID: account.id, purpose: .passwordReset, email: nil, expiresAt: now + ttl.totalSeconds, now: now
            )
            try await self.outbox.enqueue(
                tx, .staffInvite, to: try MailRecipient(address: email.value, name: name),
                values: [
                    "staff_name": name, "invited_by": actor.name, "set_password_url": self.link("/password-reset/\(token.text)"),
                    "expires_in": AccountSettings.spoken(ttl),
                ],
                now: now
            )
            try await AuditTrail.record(
                tx, .staffInvited, object: .account(account.id),
                after: ["email": email.value, "roles": roles.map { $0.id.uuidString.lowercased() }.sorted().joined(separator: ",")], account: account.id, now: now
            )
        }
        return StaffRepository.Member(id: account.id, name: name, email: email.value, disabledAt: nil, roleIDs: roles.map(\.id).sorted { $0.uuidString < $1.uuidString })
    }

    /// Disables or enables a member of staff and/or replaces their roles (`staff.manage`).
    /// Disabling ends their sessions in the same transaction, and their API tokens stop working
    /// with the next request on any node (the token's owner is checked on every request).
    /// Refused: changing oneself, changing someone who holds a permission the actor does not,
    /// and leaving no enabled staff member with full access.
    public func updateStaff(by actor: Account, id: UUID, disabled: Bool?, roles references: [String]?) async throws -> StaffRepository.Member {
        try StaffPolicy.require(.staffManage, of: actor)
        let repository = StaffRepository(database)
        guard let member = try await repository.member(id: id) else { throw BillingError.notFound("staff member") }
        guard id != actor.id else { throw BillingError.conflict("you cannot change your own roles or disable yourself") }
        try StaffPolicy.requireGrantable(try await repository.permissions(accountID: id), by: actor)
        var resolved: [StaffRole]?
        if let references { resolved = try await resolveRoles(references) }
        let roles = resolved
        if let roles { try StaffPolicy.requireGrantable(Self.union(roles), by: actor) }
        let keepsFullAccess = (roles.map { $0.contains { $0.builtIn } } ?? member.roleIDs.contains(StaffRole.fullAccessID)) && !(disabled ?? (member.disabledAt != nil))
        if !keepsFullAccess, try await repository.otherEnabledFullAccessCount(exceptAccountID: id) == 0 {
            throw BillingError.conflict("at least one enabled staff member must keep the Full access role")
        }
        let now = clock.now()
        try await database.transaction { tx in
            let staff = StaffRepository(tx)
            if let roles { try await staff.setRoles(accountID: id, roleIDs: Set(roles.map(\.id))) }
            if let disabled, disabled != (member.disabledAt != nil) {
                try await staff.setDisabled(accountID: id, at: disabled ? now : nil, now: now)
                if disabled { try await AccountSessionRepository(tx).endAll(accountID: id, exceptIDHash: nil, now: now) }
            }
            let ids = { (list: [UUID]) in list.map { $0.uuidString.lowercased() }.sorted().joined(separator: ",") }
            try await AuditTrail.record(
                tx, .staffUpdated, object: .account(id),
                before: ["disabled": String(member.disabledAt != nil), "roles": ids(member.roleIDs)],
                after: ["disabled": String(disabled ?? (member.disabledAt != nil)), "roles": ids(roles.map { $0.map(\.id) } ?? member.roleIDs)],
                account: id, now: now
            )
        }
        guard let updated = try await repository.member(id: id) else { throw BillingError.notFound("staff member") }
        return updated
    }

    /// Roles by id or name (case-insensitive); an unknown one is a 400 naming it.
    func resolveRoles(_ references: [String]) async throws -> [StaffRole] {
        guard references.count <= 50 else { throw BillingError.invalid("at most 50 roles", field: "roles") }
        let all = try await StaffRepository(database).roles()
        return try references.map { reference in
            let key = reference.trimmingCharacters(in: .whitespaces).lowercased()
            guard let role = all.first(where: { $0.id.uuidString.lowercased() == key || $0.name.lowercased() == key }) else {
                throw BillingError.invalid("unknown role \"\(reference)\"", field: "roles")
            }
            return role
        }
    }

    static func union(_ roles: [StaffRole]) -> Set<StaffPermission> {
        roles.reduce(into: Set<StaffPermission>()) { $0.formUnion($1.permissions) }
    }
}
