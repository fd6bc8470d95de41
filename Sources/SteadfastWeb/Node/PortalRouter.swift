import Hummingbird
import HummingbirdAuth
import Logging
import Prometheus
import SteadfastConfig
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence
import SteadfastServices
import SteadfastSessions
import SteadfastStorage

/// Builds the node's router: the middleware stack and every route.
///
/// Middleware order, outermost first: request id + access log + body limit, metrics, error
/// rendering, Secure cookies; then, for every route but the probes (`/healthz`, `/readyz`,
/// `/metrics`), the stylesheet and script (`/assets/...`) and signed download links, sessions (database-backed; a load failure is a 503,
/// not a log-out) and authentication; then CSRF for HTML routes and JSON-only for `/api/v1`.
public struct PortalRouter: Sendable {
    let configuration: NodeConfiguration
    let database: any SQLDatabase
    let accounts: AccountService
    let files: FileService
    let billing: BillingWeb
    let readiness: Readiness
    let secret: String
    let clock: any WallClock
    let metrics: PrometheusCollectorRegistry

    public init(
        configuration: NodeConfiguration, database: any SQLDatabase, accounts: AccountService, files: FileService, billing: BillingWeb,
        readiness: Readiness, secret: String, clock: any WallClock, metrics: PrometheusCollectorRegistry
    ) {
        self.configuration = configuration
        self.database = database
        self.accounts = accounts
        self.files = files
        self.billing = billing
        self.readiness = readiness
        self.secret = secret
        self.clock = clock
        self.metrics = metrics
    }

    /// The router with its own page templates (tests, the route table).
    public func build() async throws -> Router<PortalRequestContext> {
        try await build(pages: PageRenderer.load(staffNotices: Self.staffNotices(configuration)))
    }

    /// The router rendering with `pages`: a node loads its templates once and shares them with
    /// the mail it renders.
    public func build(pages: PageRenderer) async throws -> Router<PortalRequestContext> {
        let tickets = SupportWeb.tickets(configuration: configuration, database: database, files: files, clock: clock, logger: Logger(label: "steadfast.support"))
        let content = ContentWeb.service(configuration: configuration, database: database, files: files, clock: clock)
        let driver = DatabasePersistDriver(database: database, clock: clock, defaultLifetime: configuration.sessionIdleTimeout)
        let cookie = SessionCookieParameters(name: configuration.sessionCookie, path: "/", secure: false, sameSite: .lax)
        let sessionConfiguration = SessionMiddlewareConfiguration(
            sessionCookieParameters: cookie, keyPrefix: "session.", defaultSessionExpiration: configuration.sessionIdleTimeout
        )
        let sessionStorage = SessionStorage<PortalSession>(driver, configuration: .init(sessionCookieParameters: cookie, keyPrefix: "session."))
        let issuer = SessionIssuer(storage: sessionStorage, idleTimeout: configuration.sessionIdleTimeout, clock: clock)

        let router = Router(context: PortalRequestContext.self)
        router.middlewares.add(RequestLoggingMiddleware(
            forwarded: ForwardedHeaders(trustedProxies: configuration.trustedProxies), maxBodySize: configuration.maxBodySize,
            uploadLimits: ["/api/v1/files": configuration.maxUploadSize].merging(SupportWeb.uploadLimits(configuration)) { first, _ in first }
                .merging(ContentWeb.uploadLimits(configuration)) { first, _ in first }
        ))
        router.middlewares.add(RequestMetricsMiddleware())
        router.middlewares.add(ErrorMiddleware(pages: pages, account: { [accounts, sessionStorage, clock, configuration] request in
            // Only for the page's navigation: a session that logs someone in (not half a
            // two-factor log-in, not past its absolute expiry).
            guard let session = try? await sessionStorage.load(request: request),
                  session.standing(now: clock.now(), absoluteTimeout: configuration.sessionAbsoluteTimeout) == .loggedIn
            else { return nil }
            return try? await accounts.account(id: session.accountID)
        }))
        router.middlewares.add(SecureCookieMiddleware(mode: configuration.servedOverHTTPS ? .always : configuration.secureCookies))

        // Probes and signed download links need no session: they answer without one, so a probe
        // that carries a cookie is not turned into a 503 page while the database is down
        // (/healthz must stay 200 while the process lives).
        HealthController(readiness: readiness, registry: metrics, nodeID: configuration.nodeID).addRoutes(to: router)
        try AssetsController.load().addRoutes(to: router)
        DownloadLinkController(registry: files.registry, clock: clock).addRoutes(to: router)

        let portal = router.group()
            .add(middleware: SessionLoadGuardMiddleware())
            .add(middleware: SessionMiddleware(storage: driver, configuration: sessionConfiguration))
            .add(middleware: AuthenticationMiddleware(
                accounts: accounts, idleTimeout: configuration.sessionIdleTimeout, absoluteTimeout: configuration.sessionAbsoluteTimeout, clock: clock,
                canWrite: { [database] in database.canWrite }
            ))
            .add(middleware: StaffTwoFactorMiddleware(required: configuration.accounts.require2FAForStaff))
        let api = portal.group("api/v1")
            .add(middleware: APITokenMiddleware(tokens: billing.tokens, limiter: RateLimiter(database: database, limits: configuration.rateLimits, clock: clock)))
            // Before the cart claim, so a claimed visitor cart is recorded as the account's.
            .add(middleware: AuditOriginMiddleware(nodeID: configuration.nodeID))
            .add(middleware: VisitorCartMiddleware(billing: billing))
            .add(middleware: JSONOnlyMiddleware(rawBodyHeader: FilesAPIController.filenameHeader))
        AuthAPIController(accounts: accounts, sessions: issuer).addRoutes(to: api)
        MeAPIController(accounts: accounts, sessions: issuer, settings: configuration.accountSettings, clock: clock).addRoutes(to: api)
        FilesAPIController(files: files, maxUploadSize: configuration.maxUploadSize).addRoutes(to: api)
        OpenAPIDocument.addRoutes(to: api)
        BillingAPIController(billing: billing).addRoutes(to: api)
        SavedCardsAPIController(billing: billing).addRoutes(to: api)
        BillingAdminAPIController(billing: billing).addRoutes(to: api)
        GatewayWebhookController(billing: billing).addRoutes(to: api)
        JobsAPIController(store: JobStore(database: database), clock: clock, nodeID: configuration.nodeID).addRoutes(to: api)
        SupportAPIController(tickets: tickets).addRoutes(to: api)
        SupportAdminAPIController(tickets: tickets).addRoutes(to: api)
        ContentAPIController(content: content).addRoutes(to: api)

        let html = portal.group().add(middleware: CSRFMiddleware(
            tokens: CSRFTokens(secret: secret), cookieName: configuration.csrfCookie, sessionCookieName: configuration.sessionCookie
        )).add(middleware: AuditOriginMiddleware(nodeID: configuration.nodeID))
            .add(middleware: VisitorCartMiddleware(billing: billing))
        AuthPagesController(accounts: accounts, sessions: issuer, pages: pages).addRoutes(to: html)
        AccountPagesController(accounts: accounts, sessions: issuer, settings: configuration.accountSettings, pages: pages, clock: clock).addRoutes(to: html)
        let figures = PortalFiguresRepository(database)
        PortalPagesController(
            accounts: accounts, billing: billing, figures: figures, jobs: JobStore(database: database), pages: pages, nodeID: configuration.nodeID
        ).addRoutes(to: html)
        BillingPagesController(billing: billing, pages: pages).addRoutes(to: html)
        BillingAdminPagesController(billing: billing, pages: pages, figures: figures).addRoutes(to: html)
        InvoiceDocumentController(billing: billing, pages: pages).addRoutes(api: api, html: html)
        JobsPagesController(store: JobStore(database: database), pages: pages, clock: clock, nodeID: configuration.nodeID).addRoutes(to: html)
        SupportPagesController(tickets: tickets, pages: pages).addRoutes(to: html)
        ContentPagesController(content: content, pages: pages).addRoutes(to: html)
        MailAdminController(mail: MailAdmin(database: database, clock: clock), pages: pages).addRoutes(api: api, html: html)
        StaffController(accounts: accounts, pages: pages).addRoutes(api: api, html: html)
        ClientUsersController(accounts: accounts, pages: pages).addRoutes(api: api, html: html)
        AuditController(log: AuditLog(database: database), pages: pages).addRoutes(api: api, html: html)
        return router
    }

    /// What staff must not overlook about this node's configuration; also logged at start.
    public static func staffNotices(_ configuration: NodeConfiguration) -> [String] {
        guard configuration.billing.gateways.contains(TestCardGateway.name) else { return [] }
        return ["The testcard gateway is enabled: anyone can pay an invoice with a test card and no money moves. Remove it from billing.gateways before taking real customers."]
    }
}

extension NodeConfiguration {
    /// The `security.rate_limit.*` settings that are on, by what they limit.
    public var rateLimits: [RateLimiter.Kind: RateLimit] {
        let all: [(RateLimiter.Kind, RateLimit?)] = [
            (.loginPerAccount, rateLimitLoginPerAccount), (.loginPerIP, rateLimitLoginPerIP),
            (.registerPerIP, rateLimitRegisterPerIP), (.apiToken, rateLimitAPIToken),
            (.passwordResetPerAccount, accounts.rateLimitPasswordResetPerAccount), (.passwordResetPerIP, accounts.rateLimitPasswordResetPerIP),
            (.secondFactor, accounts.rateLimitSecondFactor),
        ]
        return Dictionary(uniqueKeysWithValues: all.compactMap { kind, limit in limit.map { (kind, $0) } })
    }
}
