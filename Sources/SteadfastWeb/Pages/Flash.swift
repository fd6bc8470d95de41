import Foundation

/// A one-time message shown on the next page the account sees ("Product created.", "The card
/// was declined."). Kept in the database session (``PortalSession/flashes``), so it survives the
/// redirect after a form post whichever node serves the next request; reading it removes it.
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
    /// Queues `message` for the next page this session renders (no-op without a session).
    func flash(_ kind: Flash.Kind, _ message: String) {
        sessions.withLockedSession { data in
            guard data != nil else { return }
            var flashes = data?.flashes ?? []
            flashes.append(Flash(kind, message))
            data?.flashes = Array(flashes.suffix(Flash.limit))
        }
    }

    /// The queued messages, removed from the session.
    func takeFlashes() -> [Flash] {
        var taken: [Flash] = []
        sessions.withLockedSession { data in
            guard let flashes = data?.flashes, !flashes.isEmpty else { return }
            taken = flashes
            data?.flashes = nil
        }
        return taken
    }
}
