import Foundation
import SteadfastDomain
import SteadfastMail
import SteadfastPersistence

/// A client's users (sub-users, docs/accounts.md "Client users"). The client account itself (the
/// owner) invites users by e-mail with permissions from ``ClientPermission``, changes them,
/// disables and removes users; each user sets its own password through the invitation link and
/// then logs in like anyone (its own sessions, its own 2FA). Every method asks
/// ``ClientAccessPolicy`` itself: a client's user can never manage users, so it can never widen
/// its own permissions.
extension AccountService {
    /// At most this many users per client (removed ones do not count).
    public static let maxClientUsers = 100

    /// The client's users (owner only), oldest first.
    public func clientUsers(by actor: Account, limit: Int, offset: Int) async throws -> [ClientUserRepository.User] {
        try ClientAccessPolicy.requireOwner(actor)
        return try await ClientUserRepository(database).list(clientID: actor.id, limit: limit, offset: offset)
    }

    /// Invites a user for the actor's client (owner only): an account (role client) is created
    /// with no usable password, and a single-use link to `/invitations/{token}` (valid
    /// `accounts.staff_invite_ttl`) is mailed through the outbox in the same transaction.
    public func inviteClientUser(by actor: Account, email rawEmail: String, name rawName: String, permissions names: [String]) async throws -> ClientUserRepository.User {
        try ClientAccessPolicy.requireOwner(actor)
        let email = try EmailAddress(rawEmail)
        let name = try Account.validateName(rawName)
        let permissions = try Self.clientPermissions(names)
        let users = ClientUserRepository(database)
        guard try await users.list(clientID: actor.id, limit: Self.maxClientUsers, offset: 0).count < Self.maxClientUsers else {
            throw BillingError.conflict("a client account can have at most \(Self.maxClientUsers) users; remove one first")
        }
        // Nobody knows this password: the invitee sets theirs through the link.
        let account = Account(
            id: UUID(), email: email, name: name, role: .client, passwordHash: try await hasher.hash(Self.randomPassword() + Self.randomPassword()), createdAt: clock.now()
        )
        let token = LinkToken.generate()
        let now = clock.now()
        let ttl = settings.staffInviteTTL
        let clientName = actor.profile.company.isEmpty ? actor.name : actor.profile.company
        try await database.transaction { tx in
            try await AccountRepository.insert(account, into: tx)
            try await ClientUserRepository(tx).insert(accountID: account.id, clientID: actor.id, permissions: permissions, invitedBy: actor.id, now: now)
            try await AccountSelfServiceRepository(tx).insertToken(
                hash: token.hash, accountID: account.id, purpose: .passwordReset, email: nil, expiresAt: now + ttl.totalSeconds, now: now
            )
            try await self.outbox.enqueue(
                tx, .clientUserInvite, to: try MailRecipient(address: email.value, name: name),
                values: [
                    "user_name": name, "client_name": clientName, "invited_by": actor.name,
                    "permissions": permissions.isEmpty ? "no permissions yet" : permissions.sorted().map(\.rawValue).joined(separator: ", "),
                    "accept_url": self.link("/invitations/\(token.text)"), "expires_in": AccountSettings.spoken(ttl),
                ],
                now: now
            )
            try await AuditTrail.record(
                tx, .clientUserInvited, object: AuditObject("client_user", account.id),
                after: ["email": email.value, "permissions": ClientPermission.text(permissions)], account: actor.id, now: now
            )
        }
        return ClientUserRepository.User(
            id: account.id, clientID: actor.id, name: name, email: email.value, permissions: permissions, acceptedAt: nil, disabledAt: nil, createdAt: now
        )
    }

    /// Changes a user's permissions and/or disables or enables it (owner only). Disabling ends
    /// its sessions in the same transaction; every request reads the account and its permissions
    /// from the database, so the change holds on every node from the next request on.
    public func updateClientUser(by actor: Account, id: UUID, permissions names: [String]?, disabled: Bool?) async throws -> ClientUserRepository.User {
        try ClientAccessPolicy.requireOwner(actor)
        let permissions = try names.map { try Self.clientPermissions($0) }
        let users = ClientUserRepository(database)
        guard let user = try await users.find(id: id, clientID: actor.id) else { throw BillingError.notFound("user") }
        let now = clock.now()
        try await database.transaction { tx in
            let users = ClientUserRepository(tx)
            if let permissions { try await users.setPermissions(id: id, permissions: permissions) }
            if let disabled, disabled != (user.disabledAt != nil) {
                try await users.setDisabled(id: id, at: disabled ? now : nil, now: now)
                if disabled { try await AccountSessionRepository(tx).endAll(accountID: id, exceptIDHash: nil, now: now) }
            }
            try await AuditTrail.record(
                tx, .clientUserUpdated, object: AuditObject("client_user", id),
                before: ["permissions": ClientPermission.text(user.permissions), "disabled": String(user.disabledAt != nil)],
                after: ["permissions": ClientPermission.text(permissions ?? user.permissions), "disabled": String(disabled ?? (user.disabledAt != nil))],
                account: actor.id, now: now
            )
        }
        guard let updated = try await users.find(id: id, clientID: actor.id) else { throw BillingError.notFound("user") }
        return updated
    }

    /// Removes a user (owner only): it leaves the list, its account is disabled and its sessions
    /// end in the same transaction. Its history (tickets it wrote, audit events) stays.
    public func removeClientUser(by actor: Account, id: UUID) async throws {
        try ClientAccessPolicy.requireOwner(actor)
        guard let user = try await ClientUserRepository(database).find(id: id, clientID: actor.id) else { throw BillingError.notFound("user") }
        let now = clock.now()
        try await database.transaction { tx in
            try await ClientUserRepository(tx).markRemoved(id: id, now: now)
            let ended = try await AccountSessionRepository(tx).endAll(accountID: id, exceptIDHash: nil, now: now)
            try await AuditTrail.record(
                tx, .clientUserRemoved, object: AuditObject("client_user", id),
                before: ["email": user.email, "permissions": ClientPermission.text(user.permissions)], after: ["sessions_ended": String(ended)],
                account: actor.id, now: now
            )
        }
    }

    /// What an invitation link offers, for the accept page; `nil` when the link is unknown,
    /// used, expired or not an invitation.
    public struct ClientInvitation: Sendable {
        public let name: String
        public let email: String
        public let clientName: String
        public let permissions: Set<ClientPermission>
    }

    public func clientInvitation(token: String) async throws -> ClientInvitation? {
        guard token.utf8.count <= 128, let pending = try await pendingInvitation(hash: LinkToken.hash(of: token)),
              let owner = try await accounts.find(id: pending.user.clientID) else { return nil }
        let (account, user) = (pending.account, pending.user)
        return ClientInvitation(
            name: account.name, email: account.email.value, clientName: owner.profile.company.isEmpty ? owner.name : owner.profile.company, permissions: user.permissions
        )
    }

    /// Accepts an invitation: sets the user's own password (and name, when given), confirms its
    /// e-mail address (the link was mailed to it) and uses the token up — single use even when
    /// two nodes take it at once. An unknown, used or expired token is ``AccountError/invalidToken``.
    public func acceptClientInvitation(token: String, password: String, name rawName: String?) async throws -> Account {
        let hash = LinkToken.hash(of: token)
        guard token.utf8.count <= 128, let pending = try await pendingInvitation(hash: hash) else { throw AccountError.invalidToken }
        let (account, user) = (pending.account, pending.user)
        let name: String
        if let rawName, !rawName.trimmingCharacters(in: .whitespaces).isEmpty { name = try Account.validateName(rawName) } else { name = account.name }
        try await setPassword(password, of: account, consumingToken: hash) { tx, now in
            let repository = AccountSelfServiceRepository(tx)
            try await repository.updateProfile(id: account.id, name: name, profile: account.profile, now: now)
            try await repository.setVerifiedEmail(id: account.id, email: account.email, now: now)
            try await ClientUserRepository(tx).markAccepted(id: account.id, now: now)
            try await AuditTrail.record(
                tx, .clientUserAccepted, object: AuditObject("client_user", account.id), after: ["name": name], actor: .account(account.id), account: user.clientID, now: now
            )
        }
        guard let accepted = try await accounts.find(id: account.id) else { throw AccountError.invalidToken }
        return accepted
    }

    /// The account and invitation behind an unused, unexpired token of a user not yet accepted.
    func pendingInvitation(hash: String) async throws -> (account: Account, user: ClientUserRepository.User)? {
        guard let accountID = try await passwordTokenAccountID(hash: hash),
            let user = try await ClientUserRepository(database).pending(accountID: accountID),
            let account = try await accounts.find(id: user.id), account.disabledAt == nil
        else { return nil }
        return (account, user)
    }

    /// The client's company details (`profile` permission): the client account's name, company,
    /// phone and contact address, whoever of its users asks.
    public func clientCompany(for actor: Account) async throws -> Account {
        let clientID = try ClientAccessPolicy.client(of: actor, for: .profile)
        guard let client = try await accounts.find(id: clientID) else { throw BillingError.notFound("client") }
        return client
    }

    /// Changes the client's company, phone and contact address (`profile` permission); the
    /// client's name and e-mail address stay the owner's own business (`PUT /api/v1/me`).
    public func updateClientCompany(by actor: Account, profile raw: AccountProfile) async throws -> Account {
        let clientID = try ClientAccessPolicy.client(of: actor, for: .profile)
        guard let client = try await accounts.find(id: clientID) else { throw BillingError.notFound("client") }
        let profile = try AccountProfile.validated(company: raw.company, phone: raw.phone, address: raw.address)
        let now = clock.now()
        try await database.transaction { tx in
            try await AccountSelfServiceRepository(tx).updateProfile(id: clientID, name: client.name, profile: profile, now: now)
            try await AuditTrail.record(
                tx, .accountProfileUpdated, object: .account(clientID),
                before: ["company": client.profile.company, "phone": client.profile.phone, "address": client.profile.address],
                after: ["company": profile.company, "phone": profile.phone, "address": profile.address], account: clientID, now: now
            )
        }
        var updated = client
        updated.profile = profile
        return updated
    }

    static func clientPermissions(_ names: [String]) throws -> Set<ClientPermission> {
        do throws(ClientAccessPolicy.Invalid) {
            return try ClientPermission.parse(names)
        } catch { throw BillingError.invalid(error.message, field: "permissions") }
    }
}
