#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The ticket status machine: pure, events in, the next status out (time passed in).
///
/// | event | from | to |
/// | --- | --- | --- |
/// | `clientReplied` | any (a closed ticket reopens) | `customer_reply` |
/// | `staffReplied` | any | `answered` |
/// | `notePosted` | any | unchanged |
/// | `staffSet(s)` | any | `s` |
/// | `clientClosed` | any but `closed` | `closed` (closed → 409) |
/// | `autoCloseCheck` | `answered`, untouched for `after` | `closed`; otherwise unchanged |
public enum TicketLifecycle {
    public enum Event: Sendable, Equatable {
        case clientReplied
        case staffReplied
        case notePosted
        case staffSet(TicketStatus)
        case clientClosed
        /// The auto-close job's check: `lastActivity` is when the status last changed.
        case autoCloseCheck(lastActivity: Date, now: Date, after: Duration)
    }

    /// The status a new ticket starts in.
    public static let initial = TicketStatus.open

    /// The status after `event`, or an `illegalTransition`-style conflict.
    public static func next(from status: TicketStatus, on event: Event) throws(SupportError) -> TicketStatus {
        switch event {
        case .clientReplied: return .customerReply
        case .staffReplied: return .answered
        case .notePosted: return status
        case .staffSet(let target): return target
        case .clientClosed:
            guard status != .closed else { throw SupportError(.conflict, "this ticket is already closed", field: "status") }
            return .closed
        case .autoCloseCheck(let lastActivity, let now, let after):
            return shouldAutoClose(status: status, lastActivity: lastActivity, now: now, after: after) ? .closed : status
        }
    }

    /// Whether an `answered` ticket has waited on its client for at least `after` (0: never).
    public static func shouldAutoClose(status: TicketStatus, lastActivity: Date, now: Date, after: Duration) -> Bool {
        guard status == .answered, after > .zero else { return false }
        return now >= lastActivity + after
    }

    /// The latest `lastActivity` an answered ticket may have and still be auto-closed at `now`.
    public static func autoCloseCutoff(now: Date, after: Duration) -> Date? {
        guard after > .zero else { return nil }
        return now - after
    }
}
