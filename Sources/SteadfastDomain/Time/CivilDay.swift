/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), without
/// Foundation's calendars: exact, allocation-free, the same on every platform.
/// (Howard Hinnant's `days_from_civil` / `civil_from_days`.) The one implementation: billing
/// dates (``BillingDate``) and the job schedules count days with it. (SteadfastSigV4, which
/// depends on no Steadfast target, formats its timestamps on its own.)
public struct CivilDay: Sendable, Equatable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// The day number of this date (0 = 1970-01-01).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// 0 = Sunday ... 6 = Saturday (1970-01-01 was a Thursday).
    public static func weekday(ofDayNumber dayNumber: Int) -> Int {
        let w = (dayNumber + 4) % 7
        return w < 0 ? w + 7 : w
    }
}
