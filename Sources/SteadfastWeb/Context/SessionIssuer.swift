import Foundation
import Hummingbird
import HummingbirdAuth
import SteadfastDomain

/// Logs accounts in and out on the session, shared by the JSON API and the HTML pages.
public struct SessionIssuer: Sendable {
    let storage: SessionStorage<PortalSession>
    let idleTimeout: Duration
    let clock: any WallClock

    public init(storage: SessionStorage<PortalSession>, idleTimeout: Duration, clock: any WallClock) {
        self.storage = storage
        self.idleTimeout = idleTimeout
        self.clock = clock
    }

    /// Starts a session for `account` under a NEW session id (the old one, if the request had
    /// one, is deleted): a session id known before log-in is never valid after it.
    public func logIn(_ account: Account, request: Request, context: PortalRequestContext) async throws {
        if storage.getId(request: request) != nil {
            _ = try? await storage.delete(request: request)
        }
        context.sessions.createSession(PortalSession(accountID: account.id, issuedAt: clock.now()), expiresIn: idleTimeout)
        context.logger.info("logged in", metadata: ["steadfast.account.id": .string(account.id.uuidString.lowercased())])
    }

    /// Ends the session: the session middleware deletes the row and expires the cookie.
    public func logOut(context: PortalRequestContext) {
        context.sessions.clearSession()
    }
}
