import Foundation
import Logging
import SteadfastDomain
import SteadfastMail
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
        var content: ContentService { ContentService(database: db, files: support.tickets.files, maxDownloadSize: 4096, clock: clock, logger: Logger(label: "test")) }
        var mail: MailAdmin { MailAdmin(database: db, clock: clock) }

        /// A day-based `now` relative to the clock.
        func days(_ n: Int) -> Date { clock.now().addingTimeInterval(Double(n) * 86_400) }

        /// A client's active service (paid order) and the client.
        func activeService() async throws -> ClientService {
            try #require(try await billing.activeServices(try await billing.product(), for: try await billing.client()).first)
        }

        /// An active service whose renewal invoice (due in about 30 days) was issued and is unpaid.
        func serviceWithRenewalDue() async throws -> (service: ClientService, due: Date) {
            let service = try await activeService()
            #expect(try await billing.recurring.generateRenewalInvoices(now: days(40)) == 1)
            let due = try #require(service.nextDueDate)
            return (service, due.startInstant(in: billing.settings.timeZone).addingTimeInterval(12 * 3600))
        }

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
            // The request queues it; the mail-delivery job's step makes the link and the event,
            // with the origin the request had.
            return {
                try await w.accounts.requestPasswordReset(email: account.email.value, clientIP: nil)
                try await w.accounts.mailQueuedPasswordResets()
            }
        },
        .accountPasswordReset: { w in
            let account = try await w.registered()
            try await w.accounts.requestPasswordReset(email: account.email.value, clientIP: nil)
            try await w.accounts.mailQueuedPasswordResets()
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
        .accountLoggedOut: { w in
            let account = try await w.registered()
            return { try await w.accounts.logOut(accountID: account.id) }
        },
        .accountLoginFailed: { w in
            let account = try await w.registered()
            return {
                do {
                    _ = try await w.accounts.authenticate(email: account.email.value, password: "not the password")
                    Issue.record("a wrong password logged in")
                } catch AccountError.invalidCredentials {}
            }
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
        // A client's users (docs/accounts.md, "Client users")
        .clientUserInvited: { w in
            let owner = try await w.registered()
            return { _ = try await w.accounts.inviteClientUser(by: owner, email: "user-\(UUID().uuidString.prefix(8))@example.com", name: "Ann", permissions: ["billing"]) }
        },
        .clientUserAccepted: { w in
            let owner = try await w.registered()
            let user = try await w.accounts.inviteClientUser(by: owner, email: "user-\(UUID().uuidString.prefix(8))@example.com", name: "Ann", permissions: ["billing"])
            let token = try #require(try await ClientUsersTests.invitationToken(w.db, to: user.email))
            return { _ = try await w.accounts.acceptClientInvitation(token: token, password: "ann's own secret", name: nil) }
        },
        .clientUserUpdated: { w in
            let owner = try await w.registered()
            let user = try await w.accounts.inviteClientUser(by: owner, email: "user-\(UUID().uuidString.prefix(8))@example.com", name: "Ann", permissions: ["billing"])
            return { _ = try await w.accounts.updateClientUser(by: owner, id: user.id, permissions: ["support"], disabled: true) }
        },
        .clientUserRemoved: { w in
            let owner = try await w.registered()
            let user = try await w.accounts.inviteClientUser(by: owner, email: "user-\(UUID().uuidString.prefix(8))@example.com", name: "Ann", permissions: ["billing"])
            return { try await w.accounts.removeClientUser(by: owner, id: user.id) }
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
        .orderMarkedFraud: { w in
            let (_, order) = try await w.unpaidOrder()
            return { _ = try await w.billing.orders.cancel(orderID: try #require(UUID(uuidString: order.orderID)), fraud: true) }
        },
        .companyUpdated: { w in { _ = try await w.billing.invoices.updateCompany(legalName: "Hosting Ltd \(UUID().uuidString.prefix(4))", address: "1 Main St", taxID: nil, bankDetails: nil) } },
        .billingRunStarted: { w in { _ = try await w.billing.recurring.runByHand(task: "all") } },
        .mailRetried: { w in
            _ = try await w.registered()
            let id = try #require(try await w.db.first("SELECT id FROM mail_outbox LIMIT 1")?.uuid("id"))
            try await w.db.query("UPDATE mail_outbox SET state = 'failed' WHERE id = \(id)")
            return {
                let retried = try await w.mail.retry(id: id)
                #expect(retried)
            }
        },
        .mailTemplateSaved: { w in
            let staff = try await w.billing.staff()
            var source = try #require(MailTemplates.shipped.defaults[.paymentReceived])
            source.subject = "Thanks \(UUID().uuidString.prefix(4))"
            let edited = source
            return { _ = try await w.mail.save(.paymentReceived, edited, by: staff) }
        },
        .mailTemplateReset: { w in
            var source = try #require(MailTemplates.shipped.defaults[.paymentFailed])
            source.subject = "Sorry"
            _ = try await w.mail.save(.paymentFailed, source, by: try await w.billing.staff())
            return { try await w.mail.reset(.paymentFailed) }
        },
        // Billing: jobs and gateways (each on a database of its own: a job step acts on every candidate)
        .invoiceRenewalIssued: { w in
            _ = try await w.activeService()
            return {
                let done = try await w.billing.recurring.generateRenewalInvoices(now: w.days(40))
                #expect(done == 1)
            }
        },
        .invoiceLateFeeIssued: { w in
            _ = try await w.unpaidOrder()
            return {
                let done = try await w.billing.recurring.applyLateFees(now: w.days(11))
                #expect(done == 1)
            }
        },
        .invoiceReminderQueued: { w in
            _ = try await w.unpaidOrder()
            return {
                let done = try await w.billing.recurring.queueOverdueReminders(now: w.days(9))
                #expect(done == 1)
            }
        },
        .creditAutoApplied: { w in
            let (client, _) = try await w.unpaidOrder()
            _ = try await w.billing.payments.adjustCredit(
                staffID: try await w.billing.staff(), clientID: client, amount: Money(minorUnits: 100_000, currency: .eur), description: "prepaid", idempotencyKey: w.key()
            )
            return {
                let done = try await w.billing.recurring.applyCreditBalances(now: w.clock.now())
                #expect(done == 1)
            }
        },
        .serviceSuspendedOverdue: { w in
            let (_, due) = try await w.serviceWithRenewalDue()
            return {
                let done = try await w.billing.recurring.suspendOverdueServices(now: due.addingTimeInterval(6 * 86_400))
                #expect(done == 1)
            }
        },
        .serviceUnsuspended: { w in
            let (_, due) = try await w.serviceWithRenewalDue()
            #expect(try await w.billing.recurring.suspendOverdueServices(now: due.addingTimeInterval(6 * 86_400)) == 1)
            // Seen from before the invoice fell overdue, nothing is overdue: the suspension is lifted.
            return {
                let done = try await w.billing.recurring.unsuspendPaidServices(now: due.addingTimeInterval(-86_400))
                #expect(done == 1)
            }
        },
        .paymentReceived: { w in
            let (client, order) = try await w.unpaidOrder()
            let pending = try await w.billing.payments.pay(clientID: client, invoiceID: w.billing.invoiceID(order), gateway: "testcard", amount: nil, cardToken: nil, idempotencyKey: w.key())
            let checkoutText = try #require(pending.value.checkout?.id)
            let checkout = try #require(UUID(uuidString: checkoutText))
            return { _ = try await w.billing.payments.simulateTestCardCheckout(clientID: client, checkoutID: checkout, succeed: true) }
        },
        .paymentFailed: { w in
            let (client, order) = try await w.unpaidOrder()
            let pending = try await w.billing.payments.pay(clientID: client, invoiceID: w.billing.invoiceID(order), gateway: "testcard", amount: nil, cardToken: nil, idempotencyKey: w.key())
            let checkoutText = try #require(pending.value.checkout?.id)
            let checkout = try #require(UUID(uuidString: checkoutText))
            return { _ = try await w.billing.payments.simulateTestCardCheckout(clientID: client, checkoutID: checkout, succeed: false) }
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
        .cartClaimed: { w in
            let (client, product) = (try await w.billing.client(), try await w.billing.product())
            let cart = "visitor-\(UUID().uuidString)"
            _ = try await w.billing.orders.addToVisitorCart(cartKey: cart, productID: product.id, cycle: .monthly, selections: [:])
            return {
                let done = try await w.billing.orders.claimVisitorCart(cartKey: cart, clientID: client)
                #expect(done == 1)
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
        .ticketAutoClosed: { w in
            let desk = try await w.desk()
            let ticket = try await w.support.tickets.open(by: desk.client, departmentID: desk.department.id, subject: "Down", message: "My site is down")
            _ = try await w.support.tickets.reply(by: desk.staff, ticketID: ticket.id, message: "Fixed it")
            return {
                let done = try await w.support.tickets.autoCloseAnswered(now: w.support.clock.now().addingTimeInterval(73 * 3600))
                #expect(done == 1)
            }
        },
        .ticketAttachmentExpired: { w in
            _ = try await w.support.upload(try await w.support.account(.client, "Cleo"), "log.txt", "never sent")
            return {
                let done = try await w.support.tickets.expireUploads(now: w.support.clock.now().addingTimeInterval(25 * 3600))
                #expect(done == 1)
            }
        },
        // Content
        .contentCreated: { w in
            let staff = try await w.support.account(.staff, "Sam")
            return { _ = try await w.content.createAnnouncement(by: staff, .init(title: "Maintenance", body: "Tonight.", audience: .public, published: true)) }
        },
        .contentUpdated: { w in
            let staff = try await w.support.account(.staff, "Sam")
            let made = try await w.content.createAnnouncement(by: staff, .init(title: "Maintenance", body: "Tonight.", audience: .public, published: true))
            return { _ = try await w.content.updateAnnouncement(by: staff, id: made.id, .init(title: "Maintenance moved", body: "Tomorrow.", audience: .public, published: true)) }
        },
        .contentDeleted: { w in
            let staff = try await w.support.account(.staff, "Sam")
            let category = try await w.content.createCategory(by: staff, name: "Billing \(UUID().uuidString.prefix(4))", slug: nil, description: nil)
            return { try await w.content.deleteCategory(by: staff, id: category.id) }
        },
    ]

    /// Actions driven through a real node instead (each named test asserts its event): they
    /// happen only through a route handler's hook or against Stripe (localstripe).
    static let drivenThroughANode: [AuditAction: String] = [
        .jobRunQueued: "AuditWalkLiveTests", .fileUploaded: "AuditWalkLiveTests", .fileDeleted: "AuditWalkLiveTests",
        .paymentDisputed: "StripeAuditLiveTests", .captureFailed: "StripeAuditLiveTests",
        .paymentMethodAdded: "StripeAuditLiveTests", .paymentMethodRemoved: "StripeAuditLiveTests",
    ]

    /// Actions of jobs, which act on every candidate in the database: each runs on a database of its own.
    static let ownDatabase: Set<AuditAction> = [
        .invoiceRenewalIssued, .invoiceLateFeeIssued, .invoiceReminderQueued, .creditAutoApplied, .serviceSuspendedOverdue, .serviceUnsuspended,
        .ticketAutoClosed, .ticketAttachmentExpired, .billingRunStarted,
    ]

    /// Tables an action may change before its audited transaction, by action: the second-factor
    /// check that turning 2FA off needs uses up the code (replay guard) on its own.
    static let writtenBeforeTheChange: [AuditAction: Set<String>] = [
        .accountTwoFactorDisabled: ["account_totp"],
        // The request is queued before the job's transaction (which fails, leaving it queued).
        .accountPasswordResetRequested: ["password_reset_requests"],
    ]

    @Test func everyActionHasADriver() {
        let driven = Set(Self.drivers.keys).union(Self.drivenThroughANode.keys)
        #expect(driven == Set(AuditAction.allCases), "actions without a driver: \(Set(AuditAction.allCases).subtracting(driven).map(\.rawValue).sorted())")
        #expect(Set(Self.drivers.keys).isDisjoint(with: Self.drivenThroughANode.keys))
        #expect(Self.ownDatabase.isSubset(of: Self.drivers.keys))
    }

    /// The world `action` runs in: the shared one, or (``ownDatabase``) a fresh one.
    static func inWorld<T: Sendable>(_ action: AuditAction, _ kind: EngineKind, shared: World, _ body: @Sendable (World) async throws -> T) async throws -> T {
        guard ownDatabase.contains(action) else { return try await body(shared) }
        return try await withDatabase(kind) { db in try await body(try World(db: db)) }
    }

    static func events(_ db: any SQLDatabase) async throws -> [AuditEventRepository.Event] {
        try await AuditEventRepository(db).list(.init(), limit: 100_000, offset: 0)
    }

    @Test(arguments: EngineKind.allCases)
    func everyActionWritesExactlyOneEventWithItsOrigin(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let shared = try World(db: db)
            for action in AuditAction.allCases where Self.drivers[action] != nil {
                try await Self.inWorld(action, kind, shared: shared) { world in
                    let perform = try await Self.drivers[action]!(world)
                    let before = Set(try await Self.events(world.db).map(\.id))
                    let origin = AuditOrigin(actor: .system, ip: "198.51.100.7", nodeID: "node-\(action.rawValue)", requestID: "req-\(action.rawValue)")
                    try await AuditTrail.$origin.withValue(origin) { try await perform() }
                    let new = try await Self.events(world.db).filter { !before.contains($0.id) }
                    #expect(new.map(\.action) == [action.rawValue], "\(action.rawValue) wrote \(new.map(\.action))")
                    if let event = new.first {
                        #expect(event.nodeID == origin.nodeID && event.requestID == origin.requestID && event.ip == origin.ip, "\(action.rawValue): \(event)")
                    }
                }
            }
        }
    }

    /// The event is part of the change's transaction: with every insert into `audit_events`
    /// refused, each action fails and leaves the database exactly as it was.
    @Test func aChangeWhoseEventCannotBeWrittenDoesNotHappen() async throws {
        try await withDatabase(.sqlite) { db in
            let shared = try World(db: db)
            for action in AuditAction.allCases where Self.drivers[action] != nil {
                try await Self.inWorld(action, .sqlite, shared: shared) { world in
                    let db = world.db
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

    /// Failed log-ins to an account are its security events, but guessing cannot flood the
    /// table: at most `AccountService.failedLogInEventsPerHour` per account per trailing hour
    /// (whatever the rate limits), and none for addresses without an account.
    @Test(arguments: EngineKind.allCases)
    func failedLogInsAreRecordedForTheirAccountWithinABound(_ kind: EngineKind) async throws {
        try await withDatabase(kind) { db in
            let world = try World(db: db)
            let account = try await world.registered()
            let cap = AccountService.failedLogInEventsPerHour
            func guess(_ email: String) async {
                await #expect(throws: AccountError.invalidCredentials) { _ = try await world.accounts.authenticate(email: email, password: "a wrong guess") }
            }
            for _ in 0..<(cap + 5) { await guess(account.email.value) }
            await guess("nobody-\(UUID().uuidString.prefix(6))@example.com")
            func failed() async throws -> [AuditEventRepository.Event] {
                try await Self.events(db).filter { $0.action == AuditAction.accountLoginFailed.rawValue }
            }
            #expect(try await failed().count == cap)
            #expect(try await failed().allSatisfy { $0.accountID == account.id && $0.changes.contains("password") })
            let own = try await AuditLog(database: db).securityEvents(accountID: account.id, limit: 100)
            #expect(own.filter { $0.action == AuditAction.accountLoginFailed.rawValue }.count == cap)
            // An hour on, the window has moved: the next failure is recorded again.
            world.clock.advance(by: 3601)
            await guess(account.email.value)
            #expect(try await failed().count == cap + 1)
            // The right password still logs in (the bound limits the record, not the account).
            _ = try await world.accounts.authenticate(email: account.email.value, password: Self.password)
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
