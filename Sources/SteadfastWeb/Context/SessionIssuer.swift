import Foundation
import Hummingbird
import HummingbirdAuth
import SteadfastDomain
import SteadfastSessions

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
    /// With `secondFactorPending`, the new session only remembers that the password was right
    /// (docs/accounts.md); completing the second factor logs in again under yet another id.
    public func logIn(_ account: Account, request: Request, context: PortalRequestContext, secondFactorPending: Bool = false) async throws {
        if storage.getId(request: request) != nil {
            _ = try? await storage.delete(request: request)
        }
        let session = PortalSession(accountID: account.id, issuedAt: clock.now(), secondFactorPending: secondFactorPending ? true : nil)
        context.sessions.createSession(session, expiresIn: idleTimeout)
        context.logger.info("logged in", metadata: ["steadfast.account.id": .string(account.id.uuidString.lowercased())])
    }

    /// The stored hash of the request's session key (what `sessions.id_hash` holds), to keep
    /// this session when the account's others are ended.
    public func currentSessionHash(request: Request) -> String? {
        storage.getId(request: request).map { DatabasePersistDriver.hash(key: "session." + $0) }
    }

    /// Ends the session: the session middleware deletes the row and expires the cookie.
    public func logOut(context: PortalRequestContext) {
        context.sessions.clearSession()
    }
}
