import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// A client's users (docs/accounts.md, "Client users") on both engines with a hand-moved clock:
/// invitations are single use and expire, a user logs in with its own password and acts on the
/// owner's client with the permissions it was given — checked in the services — and only the
/// owner manages users.
@Suite struct ClientUsersTests {
    static let password = "correct horse battery"

    struct World {
        let db: any SQLDatabase
        let billing: BillingFixture
        let support: SupportFixture
        var clock: ManualClock { billing.clock }
        var accounts: AccountService { AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: clock) }

        init(db: any SQLDatabase) throws {
            self.db = db
            billing = try BillingFixture(db: db, clock: ManualClock())
            support = try SupportFixture(db: db)
        }

        /// A client account (the owner) as a request carries it.
        func owner(_ name: String = "Olga") async throws -> Account {
            let made = try await accounts.register(email: "\(name.lowercased())-\(UUID().uuidString.prefix(6))@example.com", password: ClientUsersTests.password, name: name)
            return try #require(try await accounts.requestAccount(id: made.id))
        }

        /// Invites a user with `permissions`, accepts the invitation and returns it as a request
        /// carries it.
        func user(_ name: String, _ permissions: [ClientPermission], of owner: Account) async throws -> Account {
            let invited = try await accounts.inviteClientUser(
                by: owner, email: "\(name.lowercased())-\(UUID().uuidString.prefix(6))@example.com", name: name, permissions: permissions.map(\.rawValue)
            )
            let token = try #require(try await ClientUsersTests.invitationToken(db, to: invited.email))
            _ = try await accounts.acceptClientInvitation(token: token, password: "\(name)'s own secret", name: nil)
            return try #require(try await accounts.requestAccount(id: invited.id))
        }
    }

    /// The token in the newest invitation mailed to `address`.
    static func invitationToken(_ db: any SQLDatabase, to address: String) async throws -> String? {
        let row = try await db.first("SELECT text_body FROM mail_outbox WHERE template = 'client_user_invite' AND to_address = \(address) ORDER BY created_at DESC")
        return try row.flatMap { try $0.string("text_body").firstMatch(of: /\/invitations\/([0-9a-f]{64})/)?.1 }.map(String.init)
    }

    @Test(arguments: EngineKind.allCases)
    func anInvitationIsSingleUseExpiresAndTheUserLogsInWithItsOwnPassword(_ engine: EngineKind) async throws {
        try await withDatabase(engine) { db in
            let w = try World(db: db)
            let owner = try await w.owner()
            let invited = try await w.accounts.inviteClientUser(by: owner, email: "Ann@Example.com", name: "Ann", permissions: ["billing", "support"])
            #expect(invited.permissions == [.billing, .support] && invited.acceptedAt == nil && invited.clientID == owner.id)
            let mail = try #require(try await db.first("SELECT to_address, text_body, subject FROM mail_outbox WHERE template = 'client_user_invite'"))
            #expect(try mail.string("to_address") == "Ann@Example.com")
            #expect(try mail.string("text_body").contains("Olga invited you") && mail.string("text_body").contains("billing, support"))
            let token = try #require(try await Self.invitationToken(db, to: "Ann@Example.com"))
            // Nobody can log in before the invitation is accepted.
            await #expect(throws: AccountError.invalidCredentials) { try await w.accounts.authenticate(email: "ann@example.com", password: Self.password) }
            let offer = try #require(try await w.accounts.clientInvitation(token: token))
            #expect(offer.clientName == "Olga" && offer.email == "Ann@Example.com" && offer.permissions == [.billing, .support])
            // A weak password is refused and leaves the token usable.
            await #expect(throws: AccountError.self) { try await w.accounts.acceptClientInvitation(token: token, password: "short", name: nil) }
            let accepted = try await w.accounts.acceptClientInvitation(token: token, password: "ann's own secret", name: "Ann Smith")
            #expect(accepted.clientOwnerID == owner.id && accepted.clientID == owner.id && accepted.name == "Ann Smith" && accepted.emailVerifiedAt != nil)
            // Single use: the same link again, on the page or the API, is refused.
            await #expect(throws: AccountError.invalidToken) { try await w.accounts.acceptClientInvitation(token: token, password: "another secret!", name: nil) }
            #expect(try await w.accounts.clientInvitation(token: token) == nil)
            // Her own credentials; the owner's password is not hers.
            let logIn = try await w.accounts.authenticate(email: "ann@example.com", password: "ann's own secret")
            #expect(logIn.id == invited.id && logIn.clientOwnerID == owner.id && logIn.clientPermissions == [.billing, .support])
            await #expect(throws: AccountError.invalidCredentials) { try await w.accounts.authenticate(email: "ann@example.com", password: Self.password) }
            let listed = try await w.accounts.clientUsers(by: owner, limit: 10, offset: 0)
            #expect(listed.map(\.id) == [invited.id] && listed.first?.acceptedAt != nil)

            // Expired after accounts.staff_invite_ttl (72h by default).
            let late = try await w.accounts.inviteClientUser(by: owner, email: "late@example.com", name: "Late", permissions: [])
            let lateToken = try #require(try await Self.invitationToken(db, to: late.email))
            w.clock.advance(by: 72 * 3600)
            #expect(try await w.accounts.clientInvitation(token: lateToken) == nil)
            await #expect(throws: AccountError.invalidToken) { try await w.accounts.acceptClientInvitation(token: lateToken, password: "too late for this", name: nil) }
            // A password-reset token of an ordinary account is no invitation.
            try await w.accounts.requestPasswordReset(email: owner.email.value, clientIP: nil)
            try await w.accounts.mailQueuedPasswordResets()
            let reset = try #require(try await AccountSelfServiceTests.tokenInMail(db, template: "password_reset", to: owner.email.value))
            await #expect(throws: AccountError.invalidToken) { try await w.accounts.acceptClientInvitation(token: reset, password: "taking over the owner", name: nil) }
            // Bad input names its field; an address in use is refused.
            await #expect(throws: BillingError.invalid("unknown permission \"admin\" (known: billing, support, services, profile)", field: "permissions")) {
                try await w.accounts.inviteClientUser(by: owner, email: "x@example.com", name: "X", permissions: ["admin"])
            }
            await #expect(throws: AccountError.duplicateEmail) { try await w.accounts.inviteClientUser(by: owner, email: owner.email.value, name: "Me again", permissions: []) }
        }
    }

    @Test(arguments: EngineKind.allCases)
    func theServicesActOnTheOwnersClientOnlyWithThePermission(_ engine: EngineKind) async throws {
        try await withDatabase(engine) { db in
            let w = try World(db: db)
            let owner = try await w.owner()
            let placed = try await w.billing.order(try await w.billing.product(), for: owner.id)
            let clerk = try await w.user("Bill", [.billing], of: owner)
            let helper = try await w.user("Sue", [.support, .services], of: owner)

            // billing: the owner's invoices, orders, profile, credit; not for the support user.
            #expect(try await w.billing.invoices.invoices(for: clerk).map(\.id) == [w.billing.invoiceID(placed)])
            #expect(try await w.billing.invoices.invoice(id: w.billing.invoiceID(placed), for: clerk).clientID == owner.id)
            #expect(try await w.billing.orders.orders(for: clerk).count == 1)
            #expect(try await w.billing.clients.profile(for: clerk).clientID == owner.id)
            let missingBilling = ClientAccessPolicy.Denied(decision: .missing(.billing))
            await #expect(throws: missingBilling) { try await w.billing.invoices.invoices(for: helper) }
            await #expect(throws: missingBilling) { try await w.billing.invoices.invoice(id: w.billing.invoiceID(placed), for: helper) }
            await #expect(throws: missingBilling) { try await w.billing.payments.pay(for: helper, invoiceID: w.billing.invoiceID(placed), gateway: "banktransfer", amount: nil, cardToken: nil, idempotencyKey: "k1") }
            await #expect(throws: missingBilling) { try await w.billing.orders.checkout(for: helper, idempotencyKey: "k2") }
            await #expect(throws: missingBilling) { try await w.billing.clients.updateProfile(for: helper, country: "FR", region: nil) }
            await #expect(throws: missingBilling) { try await w.billing.payments.creditBalance(for: helper) }

            // services: the owner's services; not for the billing user.
            #expect(try await w.billing.clients.services(for: helper).allSatisfy { $0.clientID == owner.id })
            await #expect(throws: ClientAccessPolicy.Denied(decision: .missing(.services))) { try await w.billing.clients.services(for: clerk) }

            // support: a ticket opened by the user belongs to the owner's client; the owner sees it.
            let department = try await w.support.tickets.createDepartment(by: try await w.support.account(.staff, "Sam"), name: "Help", email: "help@example.com", isPublic: true)
            let ticket = try await w.support.tickets.open(by: helper, departmentID: department.id, subject: "Down", message: "The site is down")
            #expect(ticket.clientID == owner.id)
            #expect(try await w.support.tickets.tickets(for: owner, limit: 10, offset: 0).map(\.id) == [ticket.id])
            #expect(try await w.support.tickets.detail(id: ticket.id, for: helper).messages.first?.authorID == helper.id)
            let missingSupport = ClientAccessPolicy.Denied(decision: .missing(.support))
            await #expect(throws: missingSupport) { try await w.support.tickets.open(by: clerk, departmentID: department.id, subject: "Hi", message: "Hello") }
            await #expect(throws: missingSupport) { try await w.support.tickets.tickets(for: clerk, limit: 10, offset: 0) }
            await #expect(throws: missingSupport) { try await w.support.tickets.detail(id: ticket.id, for: clerk) }
            await #expect(throws: missingSupport) { try await w.support.tickets.reply(by: clerk, ticketID: ticket.id, message: "Me too") }
            await #expect(throws: missingSupport) { try await w.support.tickets.close(by: clerk, ticketID: ticket.id) }

            // profile: the client's company details.
            await #expect(throws: ClientAccessPolicy.Denied(decision: .missing(.profile))) { try await w.accounts.clientCompany(for: clerk) }
            let manager = try await w.user("Max", [.profile], of: owner)
            #expect(try await w.accounts.updateClientCompany(by: manager, profile: AccountProfile(company: "Olga Ltd", phone: "", address: "")).id == owner.id)
            #expect(try await w.accounts.account(id: owner.id)?.profile.company == "Olga Ltd")

            // Another client's objects stay out of reach, with or without permissions.
            let stranger = try await w.owner("Stan")
            let strangerOrder = try await w.billing.order(try await w.billing.product(name: "Other"), for: stranger.id)
            await #expect(throws: BillingError.self) { try await w.billing.invoices.invoice(id: w.billing.invoiceID(strangerOrder), for: clerk) }
            #expect(try await w.billing.invoices.invoices(for: clerk).allSatisfy { $0.clientID == owner.id })
        }
    }

    @Test(arguments: EngineKind.allCases)
    func onlyTheOwnerManagesUsersAndRemovalEndsEverything(_ engine: EngineKind) async throws {
        try await withDatabase(engine) { db in
            let w = try World(db: db)
            let owner = try await w.owner()
            let ann = try await w.user("Ann", [.billing], of: owner)
            let bob = try await w.user("Bob", [.billing, .support, .services, .profile], of: owner)

            // A user never manages users: not others, not itself (no self-escalation).
            let ownerOnly = ClientAccessPolicy.Denied(decision: .ownerOnly)
            await #expect(throws: ownerOnly) { try await w.accounts.updateClientUser(by: ann, id: ann.id, permissions: ["billing", "support", "services", "profile"], disabled: nil) }
            await #expect(throws: ownerOnly) { try await w.accounts.updateClientUser(by: bob, id: ann.id, permissions: [], disabled: true) }
            await #expect(throws: ownerOnly) { try await w.accounts.inviteClientUser(by: bob, email: "c@example.com", name: "C", permissions: ["billing"]) }
            await #expect(throws: ownerOnly) { try await w.accounts.removeClientUser(by: bob, id: ann.id) }
            await #expect(throws: ownerOnly) { try await w.accounts.clientUsers(by: bob, limit: 10, offset: 0) }
            // Staff are no client owner either; another client does not see these users.
            await #expect(throws: ownerOnly) { try await w.accounts.clientUsers(by: try await w.support.account(.staff, "Sam"), limit: 10, offset: 0) }
            let stranger = try await w.owner("Stan")
            await #expect(throws: BillingError.notFound("user")) { try await w.accounts.updateClientUser(by: stranger, id: ann.id, permissions: [], disabled: nil) }
            await #expect(throws: BillingError.notFound("user")) { try await w.accounts.removeClientUser(by: stranger, id: ann.id) }
            #expect(try await w.accounts.clientUsers(by: stranger, limit: 10, offset: 0).isEmpty)

            // The owner narrows Ann: the next request carries the new permissions.
            #expect(try await w.accounts.updateClientUser(by: owner, id: ann.id, permissions: ["support"], disabled: nil).permissions == [.support])
            #expect(try await w.accounts.requestAccount(id: ann.id)?.clientPermissions == [.support])
            // Disabling ends her sessions and log-ins; enabling lets her back in.
            _ = try await AccountSelfServiceTests.session(db, account: ann.id, clock: w.clock)
            #expect(try await w.accounts.updateClientUser(by: owner, id: ann.id, permissions: nil, disabled: true).disabledAt != nil)
            #expect(try await w.accounts.requestAccount(id: ann.id) == nil)
            #expect(try await w.accounts.sessions(accountID: ann.id, currentSessionHash: nil).isEmpty)
            await #expect(throws: AccountError.invalidCredentials) { try await w.accounts.authenticate(email: ann.email.value, password: "Ann's own secret") }
            _ = try await w.accounts.updateClientUser(by: owner, id: ann.id, permissions: nil, disabled: false)
            #expect(try await w.accounts.authenticate(email: ann.email.value, password: "Ann's own secret").id == ann.id)

            // Removal: gone from the list, sessions ended, no log-in, no request account.
            _ = try await AccountSelfServiceTests.session(db, account: bob.id, clock: w.clock)
            try await w.accounts.removeClientUser(by: owner, id: bob.id)
            #expect(try await w.accounts.clientUsers(by: owner, limit: 10, offset: 0).map(\.id) == [ann.id])
            #expect(try await w.accounts.requestAccount(id: bob.id) == nil)
            #expect(try await w.accounts.sessions(accountID: bob.id, currentSessionHash: nil).isEmpty)
            await #expect(throws: AccountError.invalidCredentials) { try await w.accounts.authenticate(email: bob.email.value, password: "Bob's own secret") }
            await #expect(throws: BillingError.notFound("user")) { try await w.accounts.updateClientUser(by: owner, id: bob.id, permissions: nil, disabled: false) }
            // Each of these wrote one audit event for the owner's client.
            let events = try await db.query("SELECT action FROM audit_events WHERE account_id = \(owner.id) AND action LIKE 'client_user.%'").map { try $0.string("action") }
            #expect(events.filter { $0 == "client_user.invited" }.count == 2 && events.filter { $0 == "client_user.accepted" }.count == 2)
            #expect(events.filter { $0 == "client_user.updated" }.count == 3 && events.filter { $0 == "client_user.removed" }.count == 1)
        }
    }
}
