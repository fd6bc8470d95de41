import Foundation
@testable import SteadfastJobs
import Testing

/// Cron parsing and evaluation, including daylight-saving changes.
@Suite struct CronExpressionTests {
    static let utc = TimeZone(identifier: "UTC")!
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// `2025-03-30T01:00:00Z` → Date.
    static func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }

    static func fires(_ expression: String, in zone: TimeZone, after start: String, count: Int) throws -> [String] {
        let cron = try CronExpression(expression)
        var cursor = at(start)
        var result: [String] = []
        for _ in 0..<count {
            guard let next = cron.next(after: cursor, in: zone) else { break }
            result.append(SlotTime.key(next))
            cursor = next
        }
        return result
    }

    @Test func fieldsRangesStepsListsAndNames() throws {
        let a = try CronExpression("*/15 9-17/2 1,15 jan-Mar,JUL mon-fri")
        #expect(a.minutes == [0, 15, 30, 45])
        #expect(a.hours == [9, 11, 13, 15, 17])
        #expect(a.daysOfMonth == [1, 15])
        #expect(a.months == [1, 2, 3, 7])
        #expect(a.weekdays == [1, 2, 3, 4, 5])
        #expect(try CronExpression("5/20 * * * *").minutes == [5, 25, 45])
        #expect(try CronExpression("0 0 * * 7").weekdays == [0])
        #expect(try CronExpression("0 0 * * SUN,sat").weekdays == [0, 6])
        let daily = try CronExpression("@daily")
        #expect(daily.minutes == [0] && daily.hours == [0] && daily.source == "@daily")
        #expect(try CronExpression("@hourly").minutes == [0])
        #expect(try CronExpression("@weekly").weekdays == [0])
        #expect(try CronExpression("@MONTHLY").daysOfMonth == [1])
        #expect(try CronExpression("@annually").months == [1])
    }

    @Test(arguments: [
        "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "5-1 * * * *",
        "*/0 * * * *", "1,,2 * * * *", "@reboot", "@sometimes", "* * * FOO *", "0 0 30 2 *", "a * * * *",
    ])
    func invalidExpressionsAreRejectedWithAReason(_ text: String) {
        #expect(throws: JobError.self) { try CronExpression(text) }
        do {
            _ = try CronExpression(text)
        } catch {
            #expect(error.code == .invalidSchedule)
            #expect(error.message.hasPrefix("cron"))
        }
    }

    @Test func nextIsStrictlyAfter() throws {
        #expect(try Self.fires("*/15 * * * *", in: Self.utc, after: "2025-01-01T00:00:00Z", count: 3)
            == ["2025-01-01T00:15:00.000Z", "2025-01-01T00:30:00.000Z", "2025-01-01T00:45:00.000Z"])
        #expect(try Self.fires("0 3 * * *", in: Self.utc, after: "2025-01-01T02:59:59Z", count: 2)
            == ["2025-01-01T03:00:00.000Z", "2025-01-02T03:00:00.000Z"])
    }

    @Test func weekdaysAndTheDayOfMonthOrRule() throws {
        // 2025-01-01 is a Wednesday.
        #expect(try Self.fires("0 0 * * MON", in: Self.utc, after: "2025-01-01T00:00:00Z", count: 2)
            == ["2025-01-06T00:00:00.000Z", "2025-01-13T00:00:00.000Z"])
        // Both restricted: the 13th OR a Friday.
        #expect(try Self.fires("0 0 13 * FRI", in: Self.utc, after: "2025-01-01T00:00:00Z", count: 3)
            == ["2025-01-03T00:00:00.000Z", "2025-01-10T00:00:00.000Z", "2025-01-13T00:00:00.000Z"])
        // Day of month starred: only Fridays.
        #expect(try Self.fires("0 0 * * FRI", in: Self.utc, after: "2025-01-10T00:00:00Z", count: 1) == ["2025-01-17T00:00:00.000Z"])
        // 29 February: leap years only.
        #expect(try Self.fires("0 12 29 2 *", in: Self.utc, after: "2025-01-01T00:00:00Z", count: 2)
            == ["2028-02-29T12:00:00.000Z", "2032-02-29T12:00:00.000Z"])
    }

    @Test func aTimeZoneShiftsTheInstants() throws {
        // 03:00 in Berlin is 02:00Z in winter, 01:00Z in summer.
        #expect(try Self.fires("0 3 * * *", in: Self.berlin, after: "2025-01-10T00:00:00Z", count: 1) == ["2025-01-10T02:00:00.000Z"])
        #expect(try Self.fires("0 3 * * *", in: Self.berlin, after: "2025-07-10T00:00:00Z", count: 1) == ["2025-07-10T01:00:00.000Z"])
    }

    /// Berlin, 2025-03-30: at 01:00Z clocks jump from 02:00 CET to 03:00 CEST.
    @Test func aTimeSkippedByClocksGoingForwardFiresAtTheJump() throws {
        #expect(try Self.fires("30 2 * * *", in: Self.berlin, after: "2025-03-29T12:00:00Z", count: 3)
            == ["2025-03-30T01:00:00.000Z", "2025-03-31T00:30:00.000Z", "2025-04-01T00:30:00.000Z"])
        // Every quarter hour: 02:00–02:45 and 03:00 all happen at the jump, once.
        #expect(try Self.fires("*/15 * * * *", in: Self.berlin, after: "2025-03-30T00:40:00Z", count: 3)
            == ["2025-03-30T00:45:00.000Z", "2025-03-30T01:00:00.000Z", "2025-03-30T01:15:00.000Z"])
        // New York, 2025-03-09: 02:00 EST → 03:00 EDT at 07:00Z.
        #expect(try Self.fires("30 2 * * *", in: Self.newYork, after: "2025-03-08T12:00:00Z", count: 2)
            == ["2025-03-09T07:00:00.000Z", "2025-03-10T06:30:00.000Z"])
    }

    /// Berlin, 2025-10-26: at 01:00Z clocks go back from 03:00 CEST to 02:00 CET.
    @Test func aTimeRepeatedByClocksGoingBackFiresOnceAtItsFirstOccurrence() throws {
        #expect(try Self.fires("30 2 * * *", in: Self.berlin, after: "2025-10-25T12:00:00Z", count: 2)
            == ["2025-10-26T00:30:00.000Z", "2025-10-27T01:30:00.000Z"])
        // Starting inside the repeated hour's second pass: its times already fired.
        #expect(try Self.fires("*/15 * * * *", in: Self.berlin, after: "2025-10-26T01:05:00Z", count: 2)
            == ["2025-10-26T02:00:00.000Z", "2025-10-26T02:15:00.000Z"])
    }

    @Test func hourlyJobsFireOncePerWallClockHourOnChangeDays() throws {
        func count(from: String, to: String) throws -> Int {
            let cron = try CronExpression("0 * * * *")
            var cursor = Self.at(from)
            var fired = 0
            while let next = cron.next(after: cursor, in: Self.berlin), next < Self.at(to) {
                fired += 1
                cursor = next
            }
            return fired
        }
        // Local midnight to midnight: 23 wall-clock hours in spring, 25 real hours in autumn with 24 fires.
        #expect(try count(from: "2025-03-29T22:59:00Z", to: "2025-03-30T22:00:00Z") == 23)
        #expect(try count(from: "2025-10-25T21:59:00Z", to: "2025-10-26T23:00:00Z") == 24)
    }
}
