/// One versioned schema change. Versions only ever grow; a released migration is never edited.
public struct Migration: Sendable {
    /// Ordering and identity of the change (1, 2, 3...).
    public let version: Int
    /// A short description, recorded with the version.
    public let name: String
    /// The DDL for a dialect; run in order inside the migration transaction.
    public let statements: @Sendable (SQLDialect) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (SQLDialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}
