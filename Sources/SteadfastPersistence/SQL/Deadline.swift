import SteadfastConcurrency

/// ``withDeadline(_:watch:abandonWhen:_:)`` (the one deadline helper, in SteadfastConcurrency)
/// with its expiry told as a ``DatabaseError``: a `.timeout` at the limit (which may have
/// committed: the work is left running), a `.connectionFailure` when `abandon` fires (its host
/// was given up on; `mayHaveCommitted()` says whether it may have, and is asked only then).
func withDatabaseDeadline<T: Sendable>(
    _ limit: Duration,
    abandonWhen abandon: OneShotEvent? = nil,
    mayHaveCommitted: @Sendable () -> Bool = { true },
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    do {
        return try await withDeadline(limit, abandonWhen: abandon, operation)
    } catch let expired as DeadlineExceeded {
        switch expired.expiry {
        case .timeLimit:
            throw DatabaseError(.timeout, message: "no answer from the database within \(limit)", mayHaveCommitted: true)
        case .abandoned:
            throw DatabaseError(.connectionFailure, message: "the database host was given up on while the statement ran", mayHaveCommitted: mayHaveCommitted())
        }
    }
}

extension CommitGate {
    /// The error for work that reached a closed gate.
    static let abandoned = DatabaseError(.connectionFailure, message: "the database host was given up on before the work committed", mayHaveCommitted: false)
}
