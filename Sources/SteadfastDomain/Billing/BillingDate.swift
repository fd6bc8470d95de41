import Foundation

/// A calendar day (year, month, day) in the provider's billing time zone, with no time of day.
///
/// Due dates, service periods and invoice dates are days, not instants: a service due on
/// 2026-03-31 is due on that day wherever the server runs. ``init(_:in:)`` turns "now" into
/// the day it is in the billing time zone. Arithmetic is the proleptic Gregorian calendar
/// (leap years: every 4th, not every 100th, but every 400th), computed without `Calendar`.
/// Stored and sent as ISO 8601 text `YYYY-MM-DD`, which also sorts correctly as text.
public struct BillingDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A validated day; throws for impossible dates such as 2026-02-29.
    public init(year: Int, month: Int, day: Int) throws(BillingError) {
        guard (1...9999).contains(year), (1...12).contains(month), (1...Self.daysInMonth(year: year, month: month)).contains(day) else {
            throw .invalid("\(year)-\(month)-\(day) is not a valid date", field: "date")
        }
        self.year = year
        self.month = month
        self.day = day
    }

    private init(unchecked year: Int, _ month: Int, _ day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day `instant` falls on in `timeZone` (daylight saving included).
    public init(_ instant: Date, in timeZone: TimeZone) {
        let offset = timeZone.secondsFromGMT(for: instant)
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down)) + Int64(offset)
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        self = Self(daysSinceEpoch: days)
    }

    /// Parses `YYYY-MM-DD`.
    public init(iso raw: String, field: String = "date") throws(BillingError) {
        // Byte by byte (every invoice row read from the database carries two or three dates).
        let bytes = Array(raw.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10)
        else {
            throw .invalid("'\(raw)' is not a date like 2026-01-31", field: field)
        }
        do {
            try self.init(year: year, month: month, day: day)
        } catch {
            throw .invalid("'\(raw)' is not a valid date", field: field)
        }
    }

    /// `YYYY-MM-DD`.
    public var iso: String {
        func digits(_ value: Int, _ width: Int, into bytes: inout [UInt8]) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8((value / divisor) % 10))
                divisor /= 10
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(10)
        digits(year, 4, into: &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2, into: &bytes)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { iso }

    public static func < (lhs: BillingDate, rhs: BillingDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    // MARK: Calendar rules

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var isLastDayOfMonth: Bool { day == Self.daysInMonth(year: year, month: month) }

    // MARK: Arithmetic

    /// Days since 1970-01-01 (negative before), by ``CivilDay``.
    public var daysSinceEpoch: Int64 {
        Int64(CivilDay(year: year, month: month, day: day).dayNumber)
    }

    /// The day `days` days after 1970-01-01, by ``CivilDay``.
    public init(daysSinceEpoch days: Int64) {
        let civil = CivilDay(dayNumber: Int(days))
        self.init(unchecked: civil.year, civil.month, civil.day)
    }

    public func adding(days: Int) -> BillingDate {
        BillingDate(daysSinceEpoch: daysSinceEpoch + Int64(days))
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(until other: BillingDate) -> Int {
        Int(other.daysSinceEpoch - daysSinceEpoch)
    }

    /// `months` calendar months later, on `anchorDay` (default: this date's day) clamped to the
    /// length of the target month: Jan 31 + 1 month = Feb 28 (Feb 29 in a leap year), and with
    /// anchor 31 the month after that is Mar 31 again — the anchor is never lost to clamping.
    public func adding(months: Int, anchorDay: Int? = nil) -> BillingDate {
        let index = year * 12 + (month - 1) + months
        let targetYear = index >= 0 ? index / 12 : (index - 11) / 12
        let targetMonth = index - targetYear * 12 + 1
        let wanted = anchorDay ?? day
        let clamped = min(max(wanted, 1), Self.daysInMonth(year: targetYear, month: targetMonth))
        return BillingDate(unchecked: targetYear, targetMonth, clamped)
    }

    /// The first instant of this day in `timeZone`.
    public func startInstant(in timeZone: TimeZone) -> Date {
        let utcMidnight = Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch * 86_400))
        // The offset in force at that moment; re-evaluated once for days when it changes.
        let guess = utcMidnight.addingTimeInterval(-TimeInterval(timeZone.secondsFromGMT(for: utcMidnight)))
        return utcMidnight.addingTimeInterval(-TimeInterval(timeZone.secondsFromGMT(for: guess)))
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        try self.init(iso: try container.decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}
