import Foundation
@testable import SteadfastJobs
import Testing

/// Interval and cron schedules: slots anchored to the epoch, text round trips, slot ranges.
@Suite struct ScheduleTests {
    @Test func intervalsAreAnchoredToTheEpoch() {
        let fiveMinutes = Schedule.every(.seconds(300))
        let start = CronExpressionTests.at("2025-05-05T12:03:10Z")
        #expect(fiveMinutes.next(after: start).map(SlotTime.key) == "2025-05-05T12:05:00.000Z")
        #expect(fiveMinutes.next(after: CronExpressionTests.at("2025-05-05T12:05:00Z")).map(SlotTime.key) == "2025-05-05T12:10:00.000Z")
        #expect(Schedule.every(.milliseconds(1500)).next(after: Date(timeIntervalSince1970: 10)).map(SlotTime.key) == "1970-01-01T00:00:10.500Z")
    }

    @Test func slotKeysAreUTCWithMilliseconds() {
        #expect(SlotTime.key(0) == "1970-01-01T00:00:00.000Z")
        #expect(SlotTime.key(1_743_296_400_123) == "2025-03-30T01:00:00.123Z")
        #expect(SlotTime.key(-1) == "1969-12-31T23:59:59.999Z")
        // A slot read back through Double stays the same millisecond.
        let millis: Int64 = 1_700_000_000_123
        #expect(SlotTime.millisFloor(SlotTime.date(millis)) == millis)
        #expect(SlotTime.millisNearest(Date(timeIntervalSince1970: Double(millis * 1000) / 1_000_000)) == millis)
    }

    @Test(arguments: ["every 5m", "every 1500ms", "every 1s", "every 1d", "0 3 * * * (Europe/Berlin)", "@daily (UTC)", "*/10 8-18 * * MON-FRI (America/New_York)"])
    func descriptionsParseBack(_ text: String) throws {
        let schedule = try Schedule(parsing: text)
        #expect(schedule.description == text)
        #expect(try Schedule(parsing: schedule.description) == schedule)
    }

    @Test(arguments: ["every", "every five minutes", "every 0s", "0 3 * * * (Mars/Olympus)", "nonsense"])
    func badSchedulesAreRejected(_ text: String) {
        #expect(throws: JobError.self) { try Schedule(parsing: text) }
    }

    @Test func slotRangesKeepTheNewestAndCountAll() {
        let second = Schedule.every(.seconds(1))
        let slots = second.slots(after: 0, through: 10_000, keep: 3)
        #expect(slots.recent == [8000, 9000, 10_000] && slots.total == 10)
        #expect(second.slots(after: 5000, through: 5999, keep: 3).total == 0)
        #expect(second.slots(after: 5000, through: 6000, keep: 3).recent == [6000])
        let hourly = try! Schedule.cron("0 * * * *")
        let from = SlotTime.millisFloor(CronExpressionTests.at("2025-01-01T00:30:00Z"))
        let to = SlotTime.millisFloor(CronExpressionTests.at("2025-01-01T05:00:00Z"))
        let cronSlots = hourly.slots(after: from, through: to, keep: 2)
        #expect(cronSlots.total == 5)
        #expect(cronSlots.recent.map(SlotTime.key) == ["2025-01-01T04:00:00.000Z", "2025-01-01T05:00:00.000Z"])
    }

    @Test func defaultLateness() throws {
        #expect(Schedule.every(.seconds(1)).defaultLateAfter == .seconds(1))
        #expect(Schedule.every(.seconds(3600)).defaultLateAfter == .seconds(60))
        #expect(try Schedule.cron("@daily").defaultLateAfter == .seconds(60))
    }
}
