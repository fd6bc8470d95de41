import Foundation
import SteadfastDomain
import Testing

/// The one duration grammar every configuration, schedule and flag goes through.
struct DurationTextTests {
    @Test(arguments: [
        ("500ms", Duration.milliseconds(500)), ("1.5s", .milliseconds(1500)), ("2m", .seconds(120)),
        ("1h", .seconds(3600)), ("7d", .seconds(7 * 86_400)), (" 30S ", .seconds(30)), ("0s", .zero),
        ("30", .seconds(30)), ("0.25", .milliseconds(250)), ("1.0004s", .milliseconds(1000)),
    ])
    func readsEveryUnit(text: String, expected: Duration) {
        #expect(DurationText.parse(text) == expected)
    }

    /// Neither a bare word nor anything `Double` alone would accept (exponents, inf, nan, hex,
    /// signs) is a duration, and a value past what Int64 milliseconds hold is refused rather than
    /// trapping — the balancer's old parser crashed the process on `1e300s`.
    @Test(arguments: ["", "soon", "s", "ms", "-1s", "+1s", "1e300s", "1e3", "infs", "nan", "0x10s", "1 h", "5w", "99999999999999999999s", "9223372036854775807d"])
    func refusesWhatIsNotADuration(text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func aBareNumberIsSecondsOnlyWhereAllowed() {
        #expect(DurationText.parse("30", bareNumberIsSeconds: false) == nil)
        #expect(DurationText.parse("30s", bareNumberIsSeconds: false) == .seconds(30))
    }

    @Test func formatsInTheLargestExactUnitAndReadsBack() {
        #expect(DurationText.format(.seconds(86_400)) == "1d")
        #expect(DurationText.format(.seconds(5400)) == "90m")
        #expect(DurationText.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationText.format(.zero) == "0s")
        // Every whole-millisecond value reads back as itself.
        var value: Int64 = 1
        while value < 400 * 86_400_000 {
            let duration = Duration.milliseconds(value)
            #expect(DurationText.parse(DurationText.format(duration)) == duration, "\(value) ms")
            value = value * 7 + 3
        }
    }

    /// The one step between a `Duration` and a `Date` (leases, expiries, cut-offs), both ways.
    @Test func datesMoveByDurations() {
        let instant = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(instant + .milliseconds(1500) == Date(timeIntervalSince1970: 1_800_000_001.5))
        #expect(instant - .seconds(86_400) == Date(timeIntervalSince1970: 1_799_913_600))
        #expect(instant - .milliseconds(250) + .milliseconds(250) == instant)
    }

    /// The one step from two `Date`s to a `Duration`: exact for dates a whole number of
    /// microseconds apart (as the database stores them), negative backwards.
    @Test func theTimeBetweenTwoDatesIsADuration() {
        let instant = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(instant.duration(to: instant + .milliseconds(1500)) == .milliseconds(1500))
        #expect(instant.duration(to: instant + .milliseconds(100)) == .milliseconds(100))
        #expect(instant.duration(to: Date(timeIntervalSince1970: 1_800_000_000.000_123)) == .microseconds(123))
        #expect(instant.duration(to: instant - .seconds(86_400)) == .seconds(-86_400))
        #expect(instant.duration(to: instant) == .zero)
    }

    @Test func measuredTimesReadAsPeopleWriteThem() {
        #expect(DurationText.formatMeasured(.microseconds(400)) == "0.4ms")
        #expect(DurationText.formatMeasured(.milliseconds(12)) == "12.0ms")
        #expect(DurationText.formatMeasured(.milliseconds(1250)) == "1.25s")
        #expect(DurationText.formatMeasured(.seconds(125)) == "2m05s")
    }
}
