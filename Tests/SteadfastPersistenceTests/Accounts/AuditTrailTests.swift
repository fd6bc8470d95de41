import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastTestSupport
import Testing

/// The audit trail (docs/accounts.md): every state-changing action of the account, billing and
/// support services writes exactly one event, in the transaction of the change. Driven from
/// ``drivers``, which must name every ``AuditAction``: a new action without a driver fails
/// ``everyActionHasADriver()``.
@Suite struct AuditTrailTests {
    static let password = "correct horse battery"

    /// Every service on one database, with one hand-moved clock for the accounts and billing.
    struct World: Sendable {
        let db: any SQLDatabase
        let clock: ManualClock
        let billing: BillingFixture
        let support: SupportFixture
        let accounts: AccountService

        init(db: any SQLDatabase) throws {
            self.db = db
            clock = ManualClock()
            billing = try BillingFixture(db: db, clock: clock)
            support = try SupportFixture(db: db)
            accounts = AccountService(database: db, hasher: PasswordHasher(cost: 4), clock: clock)
        }

        var tokens: APITokenService { APITokenService(database: db, clock: clock) }

        /// A registered client account with a known password.
        func registered() async throws -> Account {
            try await accounts.register(email: "user-\(UUID().uuidString.prefix(8))@example.com", password: AuditTrailTests.password, name: "User")
        }

        /// A member of staff with the built-in full-access role, as the request would see them.
        func fullAccessStaff() async throws -> Account {
            let made = try await accounts.register(email: "admin-\(UUID().uuidString.prefix(8))@example.com", password: AuditTrailTests.password, name: "Admin", role: .staff, sendVerification: false)
            return try #require(try await accounts.requestAccount(id: made.id))
        }

        func staffAccount() async throws -> Account {
            let id = try await billing.staff()
            return try #require(try await accounts.requestAccount(id: id))
        }

        /// An issued, unpaid invoice of a new client's order.
        func unpaidOrder() async throws -> (client: UUID, order: OrderOutcome) {
            let client = try await billing.client()
            return (client, try await billing.order(try await billing.product(), for: client))
        }

        func key() -> String { UUID().uuidString }

        /// A staff member, a client and a public department of its own address.
        func desk() async throws -> (staff: Account, client: Account, department: Department) {
            let staff = try await support.account(.staff, "Sam")
            let department = try await support.tickets.createDepartment(by: staff, name: "T", email: "t-\(UUID().uuidString.prefix(8))@example.com", isPublic: true)
            return (staff, try await support.account(.client, "Cleo"), department)
        }
    }

    /// Sets up what an action needs (events written here are not counted) and returns the action.
    typealias Driver = @Sendable (World) async throws -> @Sendable () async throws -> Void

    static let drivers: [AuditAction: Driver] = [
        // Accounts
        .accountRegistered: { w in { _ = try await w.registered() } },
        .accountLoggedIn: { w in
            let account = try await w.registered()
            return { _ = try await w.accounts.authenticate(email: account.email.value, password: password) }
        },
        .accountProfileUpdated: { w in
            let account = try await w.registered()
            return { _ = try await w.accounts.updateProfile(accountID: account.id, name: "Renamed", email: nil, profile: AccountProfile(company: "ACME", phone: "", address: "")) }
        },
        .accountEmailVerificationSent: { w in
            let account = try await w.registered()
            return { try await w.accounts.resendVerification(accountID: account.id) }
        },
        .accountEmailVerified: { w in
            let account = try await w.registered()
            let token = try #require(try await AccountSelfServiceTests.tokenInMail(w.db, template: "email_verification", to: account.email.value))
            return { try await w.accounts.verifyEmail(token: token) }
        },
        .accountPasswordChanged: { w in
            let account = try await w.registered()
            return { try await w.accounts.changePassword(accountID: account.id, current: password, new: "another long secret", keepingSessionHash: nil) }
        },
        .accountSessionEnded: { w in
            let account = try await w.registered()
            _ = try await AccountSelfServiceTests.session(w.db, account: account.id, clock: w.clock)
            let session = try #require(try await w.accounts.sessions(accountID: account.id, currentSessionHash: nil).first)
            return {
                let ended = try await w.accounts.endSession(accountID: account.id, sessionID: session.id)
                #expect(ended)
            }
        },
        .accountPasswordResetRequested: { w in
            let account = try await w.registered()
            return { try await w.accounts.requestPasswordReset(email: account.email.value, clientIP: nil) }
        },
        .accountPasswordReset: { w in
            let account = try await w.registered()
            try await w.accounts.requestPasswordReset(email: account.email.value, clientIP: nil)
            let token = try #require(try await AccountSelfServiceTests.tokenInMail(w.db, template: "password_reset", to: account.email.value))
            return { try await w.accounts.confirmPasswordReset(token: token, newPassword: "a brand new secret") }
        },
        .accountTwoFactorEnrolmentStarted: { w in
            let account = try await w.registered()
            return { _ = try await w.accounts.startTOTPEnrolment(accountID: account.id) }
        },
        .accountTwoFactorEnabled: { w in
            let account = try await w.registered()
            let totp = try #require(TOTP(base32: try await w.accounts.startTOTPEnrolment(accountID: account.id).secret))
            return { _ = try await w.accounts.confirmTOTP(accountID: account.id, code: totp.code(at: w.clock.now())) }
        },
        .accountTwoFactorDisabled: { w in
            let account = try await w.registered()
            let totp = try #require(TOTP(base32: try await w.accounts.startTOTPEnrolment(accountID: account.id).secret))
            _ = try await w.accounts.confirmTOTP(accountID: account.id, code: totp.code(at: w.clock.now()))
            w.clock.advance(by: 60)
            return { try await w.accounts.disableTOTP(accountID: account.id, code: totp.code(at: w.clock.now())) }
        },
        // Staff management
        .staffRoleCreated: { w in
            let admin = try await w.fullAccessStaff()
            return { _ = try await w.accounts.createStaffRole(by: admin, name: "Billing desk \(UUID().uuidString.prefix(6))", permissions: ["billing.manage"]) }
        },
        .staffInvited: { w in
            let admin = try await w.fullAccessStaff()
            return { _ = try await w.accounts.inviteStaff(by: admin, email: "new-\(UUID().uuidString.prefix(8))@example.com", name: "New", roles: ["Full access"]) }
        },
        .staffUpdated: { w in
            let admin = try await w.fullAccessStaff()
            let other = try await w.fullAccessStaff()
            return { _ = try await w.accounts.updateStaff(by: admin, id: other.id, disabled: true, roles: nil) }
        },
        // Billing: staff
        .apiTokenCreated: { w in
            let staff = try await w.staffAccount()
            return { _ = try await w.tokens.create(name: "deploy", staff: staff) }
        },
        .apiTokenRevoked: { w in
            let staff = try await w.staffAccount()
            let token = try await w.tokens.create(name: "deploy", staff: staff)
            return { try await w.tokens.revoke(id: token.record.id, for: staff) }
        },
        .productGroupCreated: { w in { _ = try await w.billing.catalogue.createGroup(name: "VPS") } },
        .productGroupUpdated: { w in
            let group = try await w.billing.catalogue.createGroup(name: "VPS")
            return { _ = try await w.billing.catalogue.updateGroup(id: group.id, name: "Servers", description: nil, hidden: true, sortOrder: nil) }
        },
        .productCreated: { w in
            let group = try await w.billing.catalogue.createGroup(name: "VPS")
            return { _ = try await w.billing.catalogue.createProduct(.init(groupID: group.id, name: "Small", pricing: [.monthly: PricePoint(recurring: 500)])) }
        },
        .productUpdated: { w in
            let product = try await w.billing.product()
            return { _ = try await w.billing.catalogue.updateProduct(id: product.id, .init(groupID: product.groupID, name: "Bigger", pricing: [.monthly: PricePoint(recurring: 900)])) }
        },
        .serviceChanged: { w in
            let service = try #require(try await w.billing.activeServices(try await w.billing.product(), for: try await w.billing.client()).first)
            return { _ = try await w.billing.clients.changeService(id: service.id, event: .suspend) }
        },
        .invoiceCreated: { w in
            let client = try await w.billing.client()
            return { _ = try await w.billing.invoices.createDraft(clientID: client, dueDate: nil, lines: [.init(description: "Work", amount: Money(minorUnits: 2000, currency: .eur))]) }
        },
        .invoiceLinesAdded: { w in
            let draft = try await w.billing.invoices.createDraft(clientID: try await w.billing.client(), dueDate: nil, lines: [.init(description: "Work", amount: Money(minorUnits: 2000, currency: .eur))])
            return { _ = try await w.billing.invoices.addLines(invoiceID: draft.id, [.init(description: "More", amount: Money(minorUnits: 100, currency: .eur))]) }
        },
        .invoiceIssued: { w in
            let draft = try await w.billing.invoices.createDraft(clientID: try await w.billing.client(), dueDate: nil, lines: [.init(description: "Work", amount: Money(minorUnits: 2000, currency: .eur))])
            return { _ = try await w.billing.invoices.issue(invoiceID: draft.id) }
        },
        .invoiceCancelled: { w in
            let (_, order) = try await w.unpaidOrder()
            return { _ = try await w.billing.invoices.cancel(invoiceID: w.billing.invoiceID(order)) }
        },
        .invoiceSentToCollections: { w in
            let (_, order) = try await w.unpaidOrder()
            return { _ = try await w.billing.invoices.sendToCollections(invoiceID: w.billing.invoiceID(order)) }
        },
        .orderAccepted: { w in
            let (_, order) = try await w.unpaidOrder()
            return { _ = try await w.billing.orders.accept(orderID: try #require(UUID(uuidString: order.orderID))) }
        },
        .orderCancelled: { w in
            let (_, order) = try await w.unpaidOrder()
            return { _ = try await w.billing.orders.cancel(orderID: try #require(UUID(uuidString: order.orderID))) }
        },
        .paymentRecorded: { w in
            let (_, order) = try await w.unpaidOrder()
            let staff = try await w.billing.staff()
            return {
                _ = try await w.billing.payments.recordPayment(
                    staffID: staff, invoiceID: w.billing.invoiceID(order), amount: Money(minorUnits: 1000, currency: .eur), transactionID: "BANK-1", note: "", idempotencyKey: w.key()
                )
            }
        },
        .paymentRefunded: { w in
            let client = try await w.billing.client()
            _ = try await w.billing.activeServices(try await w.billing.product(), for: client)
            let payment = try #require(try await w.billing.payments.payments(clientID: client).first)
            let staff = try await w.billing.staff()
            return { _ = try await w.billing.payments.refund(staffID: staff, paymentID: payment.id, amount: 100, toCredit: true, idempotencyKey: w.key()) }
        },
        .creditAdjusted: { w in
            let (client, staff) = (try await w.billing.client(), try await w.billing.staff())
            return {
                _ = try await w.billing.payments.adjustCredit(
                    staffID: staff, clientID: client, amount: Money(minorUnits: 500, currency: .eur), description: "goodwill", idempotencyKey: w.key()
                )
            }
        },
        // Billing: clients
        .billingProfileUpdated: { w in
            let client = try await w.billing.client()
            return { _ = try await w.billing.clients.updateProfile(clientID: client, country: "US", region: "NY", taxExempt: nil) }
        },
        .cartItemAdded: { w in
            let (client, product) = (try await w.billing.client(), try await w.billing.product())
            return { _ = try await w.billing.orders.addToCart(clientID: client, productID: product.id, cycle: .monthly, selections: [:]) }
        },
        .cartItemRemoved: { w in
            let client = try await w.billing.client()
            let item = try await w.billing.orders.addToCart(clientID: client, productID: try await w.billing.product().id, cycle: .monthly, selections: [:])
            return { try await w.billing.orders.removeFromCart(clientID: client, itemID: item.id) }
        },
        .orderPlaced: { w in
            let client = try await w.billing.client()
            _ = try await w.billing.orders.addToCart(clientID: client, productID: try await w.billing.product().id, cycle: .monthly, selections: [:])
            return { _ = try await w.billing.orders.checkout(clientID: client, idempotencyKey: nil) }
        },
        .paymentStarted: { w in
            let (client, order) = try await w.unpaidOrder()
            return {
                _ = try await w.billing.payments.pay(
                    clientID: client, invoiceID: w.billing.invoiceID(order), gateway: "testcard", amount: nil, cardToken: "tok_visa", idempotencyKey: w.key()
                )
            }
        },
        .creditApplied: { w in
            let (client, order) = try await w.unpaidOrder()
            _ = try await w.billing.payments.adjustCredit(
                staffID: try await w.billing.staff(), clientID: client, amount: Money(minorUnits: 100_000, currency: .eur), description: "prepaid", idempotencyKey: w.key()
            )
            return { _ = try await w.billing.payments.applyCredit(clientID: client, invoiceID: w.billing.invoiceID(order), amount: nil, idempotencyKey: w.key()) }
        },
        // Support
        .departmentCreated: { w in
            let staff = try await w.support.account(.staff, "Sam")
            return { _ = try await w.support.tickets.createDepartment(by: staff, name: "Sales", email: "sales-\(UUID().uuidString.prefix(6))@example.com", isPublic: true) }
        },
        .cannedReplyCreated: { w in
            let staff = try await w.support.account(.staff, "Sam")
            return { _ = try await w.support.tickets.createCannedReply(by: staff, title: "Hello", body: "Thanks for writing.") }
        },
        .cannedReplyDeleted: { w in
            let staff = try await w.support.account(.staff, "Sam")
            let reply = try await w.support.tickets.createCannedReply(by: staff, title: "Hello", body: "Thanks for writing.")
            return { try await w.support.tickets.deleteCannedReply(by: staff, id: reply.id) }
        },
        .ticketAttachmentUploaded: { w in
            let client = try await w.support.account(.client, "Cleo")
            return { _ = try await w.support.upload(client, "log.txt", "a log line") }
        },
        .ticketOpened: { w in
            let desk = try await w.desk()
            return { _ = try await w.support.tickets.open(by: desk.client, departmentID: desk.department.id, subject: "Down", message: "My site is down") }
        },
        .ticketReplied: { w in
            let desk = try await w.desk()
            let ticket = try await w.support.tickets.open(by: desk.client, departmentID: desk.department.id, subject: "Down", message: "My site is down")
            return { _ = try await w.support.tickets.reply(by: desk.staff, ticketID: ticket.id, message: "Looking into it") }
        },
        .ticketClosed: { w in
            let desk = try await w.desk()
            let ticket = try await w.support.tickets.open(by: desk.client, departmentID: desk.department.id, subject: "Down", message: "My site is down")
            return { _ = try await w.support.tickets.close(by: desk.client, ticketID: ticket.id) }
        },
        .ticketUpdated: { w in
            let desk = try await w.desk()
            let ticket = try await w.support.tickets.open(by: desk.client, departmentID: desk.department.id, subject: "Down", message: "My site is down")
            return { _ = try await w.support.tickets.update(by: desk.staff, ticketID: ticket.id, priority: .high) }
        },
    ]

    /// Tables an action may change before its audited transaction, by action: the second-factor
    /// check that turning 2FA off needs uses up the code (replay guard) on its own.
    static let writtenBeforeTheChange: [AuditAction: Set<String>] = [.accountTwoFactorDisabled: ["account_totp"]]

    @Test func everyActionHasADriver() {
        #expect(Set(Self.drivers.keys) == Set(AuditAction.allCases), "actions without a driver: \(Set(AuditAction.allCases).subtracting(Self.drivers.keys).map(\.rawValue).sorted())")
    }

    static func events(_ db: any SQLDatabase) async throws -> [AuditEventRepository.Event] {
        try await AuditEventRepository(db).list(.init(), limit: 100_000, offset: 0)
    }

    @Test(arguments: EngineKind.allCases)
    func everyActionWritesExactlyOneEventWithItsOrigin(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let world = try World(db: db)
            for action in AuditAction.allCases {
                let perform = try await Self.drivers[action]!(world)
                let before = Set(try await Self.events(db).map(\.id))
                let origin = AuditOrigin(actor: .system, ip: "198.51.100.7", nodeID: "node-\(action.rawValue)", requestID: "req-\(action.rawValue)")
                try await AuditTrail.$origin.withValue(origin) { try await perform() }
                let new = try await Self.events(db).filter { !before.contains($0.id) }
                #expect(new.map(\.action) == [action.rawValue], "\(action.rawValue) wrote \(new.map(\.action))")
                if let event = new.first {
                    #expect(event.nodeID == origin.nodeID && event.requestID == origin.requestID && event.ip == origin.ip, "\(action.rawValue): \(event)")
                }
            }
        }
    }

    /// The event is part of the change's transaction: with every insert into `audit_events`
    /// refused, each action fails and leaves the database exactly as it was.
    @Test func aChangeWhoseEventCannotBeWrittenDoesNotHappen() async throws {
        try await withDatabase(.sqlite) { db in
            let world = try World(db: db)
            for action in AuditAction.allCases {
                let perform = try await Self.drivers[action]!(world)
                try await db.query("CREATE TRIGGER audit_refused BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
                let before = try await Self.snapshot(db, except: Self.writtenBeforeTheChange[action] ?? [])
                await #expect(throws: (any Error).self, "\(action.rawValue) succeeded without its event") { try await perform() }
                let after = try await Self.snapshot(db, except: Self.writtenBeforeTheChange[action] ?? [])
                #expect(before == after, "\(action.rawValue) changed \(after.keys.filter { before[$0] != after[$0] }.sorted()) without its event")
                try await db.query("DROP TRIGGER audit_refused")
            }
        }
    }

    /// A failed change writes no event.
    @Test(arguments: EngineKind.allCases)
    func aFailedChangeWritesNoEvent(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let world = try World(db: db)
            let account = try await world.registered()
            let (client, order) = try await world.unpaidOrder()
            let count = try await Self.events(db).count
            await #expect(throws: AccountError.self) { try await world.accounts.changePassword(accountID: account.id, current: "wrong password!", new: "whatever long", keepingSessionHash: nil) }
            await #expect(throws: (any Error).self) { _ = try await world.billing.invoices.issue(invoiceID: world.billing.invoiceID(order)) }
            await #expect(throws: (any Error).self) { _ = try await world.billing.clients.updateProfile(clientID: client, country: nil, region: nil, taxExempt: nil) }
            await #expect(throws: (any Error).self) { _ = try await world.billing.payments.applyCredit(clientID: client, invoiceID: world.billing.invoiceID(order), amount: nil, idempotencyKey: world.key()) }
            #expect(try await Self.events(db).count == count)
        }
    }

    /// The database itself refuses to change or remove an event, on both engines.
    @Test(arguments: EngineKind.allCases)
    func theTableIsAppendOnly(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let world = try World(db: db)
            let account = try await world.registered()
            await #expect(throws: (any Error).self) { try await db.query("UPDATE audit_events SET action = 'forged'") }
            await #expect(throws: (any Error).self) { try await db.query("DELETE FROM audit_events") }
            if kind == .postgres { await #expect(throws: (any Error).self) { try await db.query("TRUNCATE audit_events") } }
            let events = try await AuditLog(database: db).securityEvents(accountID: account.id, limit: 10)
            #expect(events.map(\.action) == [AuditAction.accountRegistered.rawValue])
        }
    }

    /// Nothing in Sources issues UPDATE, DELETE or TRUNCATE on audit_events.
    @Test func noSourceChangesTheAuditTable() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)).compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        #expect(files.count > 50)
        let pattern = /(?i)(UPDATE\s+audit_events|DELETE\s+FROM\s+audit_events|TRUNCATE\s+(TABLE\s+)?audit_events)/
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(text.firstMatch(of: pattern) == nil, "\(file.lastPathComponent) changes audit_events")
        }
    }

    /// Every table's rows (but `except`), as text, for comparing the database before and after.
    static func snapshot(_ db: any SQLDatabase, except: Set<String>) async throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for row in try await db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'") {
            let table = try row.string("name")
            guard !except.contains(table) else { continue }
            result[table] = try await db.query(.trusted("SELECT * FROM \"\(table)\"")).map { "\($0.values)" }.sorted()
        }
        return result
    }
}
