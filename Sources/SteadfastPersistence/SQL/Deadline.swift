import SteadfastConcurrency
import SteadfastDomain

/// ``withDeadline(_:clock:_:)`` (the one deadline helper, in SteadfastConcurrency) with its
/// expiry told as a `.timeout` ``DatabaseError``. The work has finished when this throws (the
/// helper waits for it), so whether it may have committed is read from what it threw once
/// cancelled: a `DatabaseError` says so itself; a `CancellationError` was thrown before anything
/// was sent (a wait for a connection, or a check before a statement or COMMIT); anything else,
/// or a value that came too late to be used (the work succeeded after all), as perhaps
/// committed.
func withDatabaseDeadline<T: Sendable>(
    _ limit: Duration,
    clock: any Clock<Duration> = ContinuousClock(),
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    do {
        return try await withDeadline(limit, clock: clock, operation)
    } catch let expired as DeadlineExceeded {
        let mayHaveCommitted = switch expired.underlying {
        case .some(let error as DatabaseError): error.mayHaveCommitted
        case .some(is CancellationError): false
        default: true
        }
        throw DatabaseError(.timeout, message: "no answer from the database within \(DurationText.format(limit))", mayHaveCommitted: mayHaveCommitted)
    }
}
