import Foundation
import SteadfastDomain

/// When a job's slots are: a fixed interval anchored to the Unix epoch, or a cron expression in
/// a time zone. Every node computes the same slots from the same schedule, whatever its start
/// time, which is what makes "job + slot" a key the whole cluster agrees on.
public enum Schedule: Sendable, Equatable, CustomStringConvertible {
    /// Every `milliseconds`, at whole multiples since 1970-01-01T00:00:00Z (an hourly interval
    /// fires on the hour in UTC, a 5-minute one at :00, :05, ...).
    case interval(milliseconds: Int64)
    /// At the times a cron expression gives, evaluated in a time zone.
    case cron(CronExpression, TimeZone)

    /// A fixed interval (at least 1 ms); a programming error otherwise.
    public static func every(_ duration: Duration) -> Schedule {
        let milliseconds = duration.totalMilliseconds
        precondition(milliseconds >= 1, "a job interval must be at least 1ms")
        return .interval(milliseconds: milliseconds)
    }

    /// A cron expression (see ``CronExpression``) in `timeZone` (default UTC).
    public static func cron(_ expression: String, timeZone: TimeZone = TimeZone(identifier: "UTC")!) throws(JobError) -> Schedule {
        .cron(try CronExpression(expression), timeZone)
    }

    /// Parses the text ``description`` produces: `every 5m`, `every 1500ms`, or a cron expression
    /// optionally followed by a time zone in parentheses, `0 3 * * * (Europe/Berlin)`.
    public init(parsing text: String) throws(JobError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("every ") {
            guard let duration = DurationText.parse(String(trimmed.dropFirst("every ".count)), bareNumberIsSeconds: false), duration.totalMilliseconds >= 1 else {
                throw .invalidSchedule("schedule '\(trimmed)': expected an interval like every 30s, every 5m, every 1h")
            }
            self = .every(duration)
            return
        }
        var expression = trimmed
        var zone = TimeZone(identifier: "UTC")!
        if trimmed.hasSuffix(")"), let open = trimmed.lastIndex(of: "(") {
            let name = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            guard let parsed = TimeZone(identifier: name) else { throw .invalidSchedule("schedule '\(trimmed)': unknown time zone '\(name)'") }
            zone = parsed
            expression = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        }
        self = .cron(try CronExpression(expression), zone)
    }

    /// `every 5m` or `0 3 * * * (Europe/Berlin)`; parsed back by ``init(parsing:)``.
    public var description: String {
        switch self {
        case .interval(let milliseconds): "every " + DurationText.format(.milliseconds(milliseconds))
        case .cron(let expression, let zone): "\(expression.source) (\(Self.name(of: zone)))"
        }
    }

    /// The zone's IANA name; UTC as "UTC" (Foundation on Linux calls it "GMT").
    static func name(of zone: TimeZone) -> String {
        ["GMT", "UTC", "Etc/UTC", "Etc/GMT"].contains(zone.identifier) ? "UTC" : zone.identifier
    }

    /// The first slot strictly after `date`.
    public func next(after date: Date) -> Date? {
        switch self {
        case .interval(let step):
            return SlotTime.date((floorDivide(SlotTime.millisFloor(date), step) + 1) * step)
        case .cron(let expression, let zone):
            return expression.next(after: date, in: zone)
        }
    }

    /// How late a slot may be claimed and still count as on time (see ``CatchUpPolicy``): the
    /// interval itself up to a minute; a minute for cron (its resolution).
    public var defaultLateAfter: Duration {
        switch self {
        case .interval(let step): .milliseconds(min(step, 60_000))
        case .cron: .seconds(60)
        }
    }

    /// The slots in `(after, through]` in milliseconds: the last `keep` of them (ascending) and
    /// how many there are in all. Cron schedules count at most a year back from `through`.
    func slots(after: Int64, through: Int64, keep: Int) -> (recent: [Int64], total: Int) {
        guard through > after, keep > 0 else { return ([], 0) }
        switch self {
        case .interval(let step):
            let first = (floorDivide(after, step) + 1) * step
            let last = floorDivide(through, step) * step
            guard last >= first else { return ([], 0) }
            let total = Int((last - first) / step) + 1
            let count = min(keep, total)
            return ((0..<count).map { last - Int64(count - 1 - $0) * step }, total)
        case .cron(let expression, let zone):
            var cursor = max(after, through - 366 * 86_400_000)
            var recent: [Int64] = []
            var total = 0
            while let next = expression.next(after: SlotTime.date(cursor), in: zone) {
                let millis = SlotTime.millisNearest(next)
                guard millis <= through else { break }
                total += 1
                recent.append(millis)
                if recent.count > keep { recent.removeFirst() }
                cursor = millis
            }
            return (recent, total)
        }
    }
}
