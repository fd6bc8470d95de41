import Foundation

/// Converts between instants and wall-clock minutes in a time zone, with the rules the cron
/// schedule promises at daylight-saving changes:
///
/// - a wall-clock time that does not exist (skipped when clocks go forward) happens at the end
///   of the gap — the instant the clocks jump;
/// - a wall-clock time that happens twice (when clocks go back) happens at its first occurrence.
///
/// Both rules keep the mapping from wall-clock time to instants non-decreasing, which is what
/// lets ``CronExpression`` scan wall-clock minutes in order.
struct LocalTime: Sendable {
    let timeZone: TimeZone

    /// Offset from UTC in seconds at `instant` (seconds since 1970).
    func offset(at instant: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
    }

    /// The wall-clock time of `instant`, as seconds since 1970 "as if UTC".
    func local(_ instant: Int64) -> Int64 {
        instant + offset(at: instant)
    }

    /// The instant a wall-clock time (seconds since 1970 "as if UTC") happens, by the rules above.
    func instant(ofLocal local: Int64) -> Int64 {
        // The offsets in force around this wall-clock time (zones change offset months apart,
        // so a day either side sees both sides of any change).
        let offsets = Set([offset(at: local - 86_400), offset(at: local + 86_400)])
        let valid = offsets.map { local - $0 }.filter { candidate in offset(at: candidate) == local - candidate }
        // One valid instant: the normal case; two: clocks went back — the first occurrence.
        if let first = valid.min() { return first }
        // None: clocks went forward over this time — the instant of the jump, found as the first
        // instant whose wall-clock time is at or past `local`.
        var low = local - (offsets.max() ?? 0) - 86_400
        var high = local - (offsets.min() ?? 0) + 86_400
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if self.local(middle) < local { low = middle } else { high = middle }
        }
        return high
    }
}
