import Foundation
import SteadfastDomain

/// A five-field cron expression — `minute hour day-of-month month day-of-week` — evaluated in a
/// time zone.
///
/// - Each field takes `*`, numbers, ranges `a-b`, steps `*/n`, `a-b/n` and `a/n` (from `a` to the
///   field's end), and comma lists of those. Months take `JAN`–`DEC`, weekdays `SUN`–`SAT`
///   (0 and 7 are both Sunday), in any case.
/// - Aliases: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
/// - Day of month and day of week: when both are restricted (neither starts with `*`), a day
///   matching either fires, as in every Unix cron; otherwise both must match.
/// - Daylight saving (see ``LocalTime``): a time skipped when clocks go forward fires at the
///   jump (several skipped times fire once); a time that happens twice fires once, the first time.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written.
    public let source: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let dayOfMonthRestricted: Bool
    let weekdayRestricted: Bool

    static let aliases: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; throws ``JobError`` (`invalidSchedule`) naming the field at fault, or when
    /// the expression can never fire (e.g. `0 0 30 2 *`).
    public init(_ text: String) throws(JobError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded: String
        if trimmed.hasPrefix("@") {
            guard let alias = Self.aliases[trimmed.lowercased()] else {
                throw .invalidSchedule("cron: unknown alias '\(trimmed)' (use @yearly, @monthly, @weekly, @daily or @hourly)")
            }
            expanded = alias
        } else {
            expanded = trimmed
        }
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw .invalidSchedule("cron: expected 5 fields (minute hour day-of-month month day-of-week), got \(fields.count) in '\(trimmed)'")
        }
        source = trimmed
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, names: []).sorted()
        hours = try Self.field(fields[1], name: "hour", range: 0...23, names: []).sorted()
        daysOfMonth = try Self.field(fields[2], name: "day-of-month", range: 1...31, names: [])
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, firstNameValue: 1)
        weekdays = Set(try Self.field(fields[4], name: "day-of-week", range: 0...7, names: Self.weekdayNames).map { $0 == 7 ? 0 : $0 })
        dayOfMonthRestricted = !fields[2].hasPrefix("*")
        weekdayRestricted = !fields[4].hasPrefix("*")
        // An expression that cannot fire (30 February) is a mistake, not a schedule.
        guard next(after: Date(timeIntervalSince1970: 946_684_800), in: TimeZone(identifier: "UTC")!) != nil else {
            throw .invalidSchedule("cron: '\(trimmed)' never fires")
        }
    }

    public var description: String { source }

    /// The first instant strictly after `instant` at which the expression fires in `timeZone`;
    /// `nil` if none within 28 years.
    public func next(after instant: Date, in timeZone: TimeZone) -> Date? {
        let clock = LocalTime(timeZone: timeZone)
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        // Start early enough to see a repeated hour's first occurrence (clocks going back).
        let nearby = [clock.offset(at: seconds - 86_400), clock.offset(at: seconds), clock.offset(at: seconds + 86_400)]
        let startLocal = clock.local(seconds) - ((nearby.max() ?? 0) - (nearby.min() ?? 0))
        let startDay = Int(floorDivide(startLocal, 86_400))
        let startMinuteOfDay = Int((startLocal - Int64(startDay) * 86_400) / 60)
        for dayIndex in 0..<(366 * 28) {
            let dayNumber = startDay + dayIndex
            let civil = CivilDay(dayNumber: dayNumber)
            guard months.contains(civil.month), dayMatches(civil.day, weekday: CivilDay.weekday(ofDayNumber: dayNumber)) else { continue }
            for hour in hours {
                if dayIndex == 0 && hour < startMinuteOfDay / 60 { continue }
                for minute in minutes {
                    if dayIndex == 0 && hour * 60 + minute < startMinuteOfDay { continue }
                    let local = Int64(dayNumber) * 86_400 + Int64(hour * 3600 + minute * 60)
                    let fires = clock.instant(ofLocal: local)
                    if Double(fires) > instant.timeIntervalSince1970 {
                        return Date(timeIntervalSince1970: TimeInterval(fires))
                    }
                }
            }
        }
        return nil
    }

    func dayMatches(_ day: Int, weekday: Int) -> Bool {
        let dom = daysOfMonth.contains(day)
        let dow = weekdays.contains(weekday)
        if dayOfMonthRestricted && weekdayRestricted { return dom || dow }
        return dom && dow
    }

    /// Parses one field into the set of values it allows.
    static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String], firstNameValue: Int = 0) throws(JobError) -> Set<Int> {
        var values = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !item.isEmpty else { throw .invalidSchedule("cron \(name): empty list item in '\(text)'") }
            var base = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                base = String(item[..<slash])
                guard let parsed = Int(item[item.index(after: slash)...]), parsed >= 1 else {
                    throw .invalidSchedule("cron \(name): step in '\(item)' must be a whole number of at least 1")
                }
                step = parsed
            }
            let low: Int
            let high: Int
            if base == "*" {
                (low, high) = (range.lowerBound, range.upperBound)
            } else if let dash = base.firstIndex(of: "-") {
                low = try value(String(base[..<dash]), name: name, range: range, names: names, firstNameValue: firstNameValue)
                high = try value(String(base[base.index(after: dash)...]), name: name, range: range, names: names, firstNameValue: firstNameValue)
                guard low <= high else { throw .invalidSchedule("cron \(name): range '\(base)' runs backwards") }
            } else {
                low = try value(base, name: name, range: range, names: names, firstNameValue: firstNameValue)
                // "a/n" means from a to the end of the field in steps of n.
                high = item.contains("/") ? range.upperBound : low
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    static func value(_ text: String, name: String, range: ClosedRange<Int>, names: [String], firstNameValue: Int) throws(JobError) -> Int {
        if let index = names.firstIndex(of: text.uppercased()) { return index + firstNameValue }
        guard let number = Int(text), range.contains(number) else {
            let allowed = names.isEmpty ? "" : " or \(names.first!)–\(names.last!)"
            throw .invalidSchedule("cron \(name): '\(text)' is not \(range.lowerBound)–\(range.upperBound)\(allowed)")
        }
        return number
    }
}
