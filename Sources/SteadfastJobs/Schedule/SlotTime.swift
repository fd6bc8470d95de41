import Foundation
import SteadfastDomain

/// Slot instants as whole milliseconds since 1970, and their text keys.
///
/// Slots are compared as integers, never as `Date`s: a `Date` read back from a database may
/// differ from the computed one in its last binary digit. The key (`2025-03-30T01:00:00.000Z`)
/// is the slot's identity in `job_runs` and the same on every node.
enum SlotTime {
    /// `date` in whole milliseconds, rounded down (for "now": the slot it falls in).
    static func millisFloor(_ date: Date) -> Int64 {
        // A hair above zero so a slot instant that round-tripped through Double stays itself.
        Int64((date.timeIntervalSince1970 * 1000 + 0.0001).rounded(.down))
    }

    /// `date` in whole milliseconds, rounded to nearest (for slot instants read from a database).
    static func millisNearest(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ millis: Int64) -> Date {
        Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// The ISO 8601 UTC text of a slot: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static func key(_ millis: Int64) -> String {
        let seconds = floorDivide(millis, 1000)
        let milli = Int(millis - seconds * 1000)
        let dayNumber = Int(floorDivide(seconds, 86_400))
        let secondOfDay = Int(seconds - Int64(dayNumber) * 86_400)
        let day = CivilDay(dayNumber: dayNumber)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(day.year, 4))-\(pad(day.month, 2))-\(pad(day.day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(milli, 3))Z"
    }

    static func key(_ date: Date) -> String { key(millisNearest(date)) }
}

/// Floor division (rounds towards negative infinity).
func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
