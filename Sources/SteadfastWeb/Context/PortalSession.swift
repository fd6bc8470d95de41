import Foundation
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

    public init(accountID: UUID, issuedAt: Date, secondFactorPending: Bool? = nil) {
        self.accountID = accountID
        self.issuedAt = issuedAt
        self.secondFactorPending = secondFactorPending
    }
}

extension PortalSession: SessionOwned {
    public var sessionOwnerID: UUID? { accountID }
}
