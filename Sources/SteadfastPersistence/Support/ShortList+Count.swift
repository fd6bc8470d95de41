import SteadfastDomain

extension ShortList {
    /// The table behind the list.
    var table: SQL {
        switch self {
        case .departments: "support_departments"
        case .cannedReplies: "canned_replies"
        case .staffRoles: "staff_roles"
        case .kbCategories: "kb_categories"
        case .downloadCategories: "download_categories"
        }
    }

    /// Refuses (409, ``fullMessage``, as the calling concern's `Kind` of error) one more row once
    /// the list holds ``ShortList/limit``. Call it inside the creating transaction, before the
    /// insert: on PostgreSQL it first takes the list's transaction-scoped advisory lock, so two
    /// nodes creating at once count one after the other; SQLite's `BEGIN IMMEDIATE` transactions
    /// already run one at a time. The cap is therefore exact.
    public func requireRoom<Kind: DomainErrorKind>(in db: any SQLExecutor, refusing _: Kind.Type) async throws {
        if db.dialect == .postgres {
            try await db.query("SELECT pg_advisory_xact_lock(\(Self.lockKeyBase + Int64(Self.allCases.firstIndex(of: self)!))) AS locked")
        }
        let row = try await db.first("SELECT COUNT(*) AS n FROM \(table)")
        guard (try row?.int("n") ?? 0) < Int64(Self.limit) else { throw DomainError<Kind>.conflict(fullMessage) }
    }

    /// Advisory-lock keys of the lists ("SHRTLIST" + the case's index); the migrator's key differs.
    static let lockKeyBase: Int64 = 0x5348_5254_4C49_0000
}
