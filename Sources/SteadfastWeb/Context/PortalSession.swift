import Foundation

/// What a logged-in session remembers. Stored (as JSON) in the database by
/// `DatabasePersistDriver`; anything here must be safe to read on any node.
public struct PortalSession: Codable, Sendable, Equatable {
    /// The account that logged in.
    public var accountID: UUID
    /// When the log-in happened: the start of the absolute expiry.
    public var issuedAt: Date

    public init(accountID: UUID, issuedAt: Date) {
        self.accountID = accountID
        self.issuedAt = issuedAt
    }
}
