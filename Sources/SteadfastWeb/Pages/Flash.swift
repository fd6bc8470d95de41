import Foundation

/// A one-time message shown on the next page the account sees ("Product created.", "The card
/// was declined."). Kept in the database session (``PortalSession/flashes``), so it survives the
/// redirect after a form post whichever node serves the next request; reading it removes it.
/// A visitor (nobody logged in) gets a visitor session for it (``PortalSession/visitor``), kept
/// in the database the same way and removed once its messages are shown.
public struct Flash: Codable, Sendable, Equatable {
    /// How the message is shown: green only for success; a decline or failure is `error`.
    public enum Kind: String, Codable, Sendable {
        case success, info, warning, error
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// At most this many wait in a session (older ones are dropped), so a loop of posts
    /// cannot grow the session row.
    static let limit = 5
}

extension PortalRequestContext {
    /// Queues `message` for the next page this browser renders: in the account's session, or
    /// for a visitor in a visitor session made for it (a new session id, never one the request
    /// named). Nothing for a half log-in (password right, second factor to come).
    func flash(_ kind: Flash.Kind, _ message: String) {
        let created = sessions.withLockedSession { data -> Bool in
            guard data != nil else { return false }
            var flashes = data?.flashes ?? []
            flashes.append(Flash(kind, message))
            data?.flashes = Array(flashes.suffix(Flash.limit))
            return true
        }
        if !created, account == nil, pendingSecondFactor == nil {
            sessions.createSession(.visitor(flashes: [Flash(kind, message)], now: clock.now()), expiresIn: PortalSession.visitorLifetime)
        }
    }

    /// The queued messages, removed from the session; a visitor session, whose only purpose
    /// they were, ends with them (its row is deleted, its cookie expired).
    func takeFlashes() -> [Flash] {
        var taken: [Flash] = []
        sessions.withLockedSession { data in
            guard let flashes = data?.flashes, !flashes.isEmpty else { return }
            taken = flashes
            if data?.visitor == true {
                data = nil
            } else {
                data?.flashes = nil
            }
        }
        return taken
    }
}
