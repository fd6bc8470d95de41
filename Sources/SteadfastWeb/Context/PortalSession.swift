import Foundation
import SteadfastDomain
import SteadfastSessions

/// What a logged-in session remembers. Stored (as JSON) in the database by
/// `DatabasePersistDriver`; anything here must be safe to read on any node.
public struct PortalSession: Codable, Sendable, Equatable {
    /// The account that logged in.
    public var accountID: UUID
    /// When the log-in happened: the start of the absolute expiry.
    public var issuedAt: Date
    /// `true` while the password was right but the second factor is still to come: such a
    /// session logs nobody in; only `POST /api/v1/auth/login/second-factor` (or the HTML form)
    /// can complete it, on any node.
    public var secondFactorPending: Bool?
    /// Messages for the next page this session sees (``Flash``): kept here, in the database
    /// session, so they survive a redirect to another node.
    public var flashes: [Flash]?
    /// `true` for a visitor's session (nobody logged in): it exists only to carry ``flashes``
    /// to the next page ("If the address exists, we sent a link."), logs nobody in, is owned by
    /// no account (`accountID` is the nil UUID), lives ``visitorLifetime`` and is removed once
    /// its messages are shown. A log-in replaces it under a new session id like any other.
    public var visitor: Bool?

    public init(accountID: UUID, issuedAt: Date, secondFactorPending: Bool? = nil) {
        self.accountID = accountID
        self.issuedAt = issuedAt
        self.secondFactorPending = secondFactorPending
    }

    /// A visitor's session holding `flashes`.
    static func visitor(flashes: [Flash], now: Date) -> PortalSession {
        var session = PortalSession(accountID: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), issuedAt: now)
        session.visitor = true
        session.flashes = flashes
        return session
    }

    /// How long a visitor's messages wait for the next page.
    static let visitorLifetime: Duration = .seconds(600)

    /// What this session is at `now`: the one log-in rule, read by ``AuthenticationMiddleware``
    /// and by the error pages' navigation.
    enum Standing: Equatable {
        /// A visitor's session: it only carries flash messages.
        case visitor
        /// Past its absolute expiry (``absoluteDeadline(_:)``): it logs nobody in any more.
        case expired
        /// Half a log-in: nobody is logged in until the second factor completes it.
        case secondFactorPending
        /// It logs ``accountID`` in (if that account may still use it).
        case loggedIn
    }

    /// The end of the absolute expiry: `absoluteTimeout` after the log-in, never extended.
    func absoluteDeadline(_ absoluteTimeout: Duration) -> Date {
        issuedAt + absoluteTimeout
    }

    func standing(now: Date, absoluteTimeout: Duration) -> Standing {
        if visitor == true { return .visitor }
        if now >= absoluteDeadline(absoluteTimeout) { return .expired }
        return secondFactorPending == true ? .secondFactorPending : .loggedIn
    }
}

extension PortalSession: SessionOwned {
    public var sessionOwnerID: UUID? { visitor == true ? nil : accountID }
}
