import Foundation
import Hummingbird
import HummingbirdAuth
import SteadfastDomain
import SteadfastServices
import SteadfastSessions

/// Turns the session into the logged-in ``Account`` and enforces the session's two expiries:
/// idle (the database row's expiry, pushed forward while the client is active) and absolute
/// (counted from log-in, never extended). It also hands the node's clock to the request
/// context (``PortalRequestContext/clock``).
///
/// The idle expiry is refreshed only once a tenth of it has passed, so an active client causes a
/// session write every few minutes, not one per request.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    let accounts: AccountService
    let idleTimeout: Duration
    let absoluteTimeout: Duration
    let clock: any WallClock
    /// Whether the database takes writes now; while it does not (a failover in progress), the
    /// idle-expiry refresh is skipped so reads keep working instead of failing on the write.
    let canWrite: @Sendable () -> Bool

    public init(accounts: AccountService, idleTimeout: Duration, absoluteTimeout: Duration, clock: any WallClock, canWrite: @escaping @Sendable () -> Bool = { true }) {
        self.accounts = accounts
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.clock = clock
        self.canWrite = canWrite
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clock = clock
        if let failure = SessionLoad.current?.failure {
            // The session could not be read (database unavailable): 503, not "logged out".
            throw failure
        }
        if let session = context.sessions.session {
            let now = clock.now()
            switch session.standing(now: now, absoluteTimeout: absoluteTimeout) {
            case .visitor:
                break
            case .expired:
                context.sessions.clearSession()
            case .secondFactorPending:
                context.pendingSecondFactor = session
            case .loggedIn:
                if let account = try await requestAccount(session.accountID) {
                    context.account = account
                    context.logger[metadataKey: "steadfast.account.id"] = .string(account.id.uuidString.lowercased())
                    if canWrite() { refreshIdleExpiry(context: context, now: now, absoluteDeadline: session.absoluteDeadline(absoluteTimeout)) }
                } else {
                    context.sessions.clearSession()
                }
            }
        }
        return try await next(request, context)
    }

    /// The session's account: the one read with the session (``SessionLoad``) when it is the
    /// account the session names, else read now.
    func requestAccount(_ id: UUID) async throws -> Account? {
        if let owner = SessionLoad.current?.owner, owner.id == id { return AccountService.requestable(owner) }
        return try await accounts.requestAccount(id: id)
    }

    /// Pushes the idle expiry forward when enough of it has been used.
    func refreshIdleExpiry(context: Context, now: Date, absoluteDeadline: Date) {
        let granularity = max(idleTimeout / 10, .seconds(1))
        context.sessions.withLockedSession { data in
            guard var current = data else { return }
            let remaining = current.expiresIn ?? .zero
            guard idleTimeout - remaining >= granularity else { return }
            let target = min(idleTimeout, now.duration(to: absoluteDeadline))
            guard target > remaining + .milliseconds(500) else { return }
            current.expiresIn = target
            data = current
        }
    }
}

