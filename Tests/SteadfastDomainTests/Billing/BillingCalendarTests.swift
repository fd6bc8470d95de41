import Foundation
import SteadfastDomain
import Testing

@Suite struct BillingCalendarTests {
    func date(_ text: String) throws -> BillingDate { try BillingDate(iso: text) }

    @Test func leapYears() {
        #expect(BillingDate.isLeapYear(2024))
        #expect(!BillingDate.isLeapYear(2026))
        #expect(!BillingDate.isLeapYear(1900))
        #expect(BillingDate.isLeapYear(2000))
        #expect(BillingDate.daysInMonth(year: 2024, month: 2) == 29)
        #expect(BillingDate.daysInMonth(year: 2100, month: 2) == 28)
        #expect(throws: BillingError.self) { try BillingDate(iso: "2026-02-29") }
        #expect(throws: BillingError.self) { try BillingDate(iso: "2026-13-01") }
        #expect(throws: BillingError.self) { try BillingDate(iso: "26-01-01") }
        #expect(throws: Never.self) { try BillingDate(iso: "2024-02-29") }
    }

    @Test(arguments: [
        // Month-end clamping, anchored on the registration day.
        ("2026-01-31", 1, 31, "2026-02-28"),
        ("2024-01-31", 1, 31, "2024-02-29"),
        ("2026-02-28", 1, 31, "2026-03-31"), // back to the anchor
        ("2026-03-31", 1, 31, "2026-04-30"),
        ("2026-04-30", 1, 31, "2026-05-31"),
        ("2026-01-30", 1, 30, "2026-02-28"),
        ("2026-02-28", 1, 30, "2026-03-30"),
        ("2026-01-15", 1, 15, "2026-02-15"),
        ("2026-11-30", 3, 30, "2027-02-28"), // quarterly across a year end
        ("2026-08-31", 6, 31, "2027-02-28"), // semi-annually
        ("2024-02-29", 12, 29, "2025-02-28"), // annual from a leap day
        ("2025-02-28", 12, 29, "2026-02-28"),
        ("2027-02-28", 12, 29, "2028-02-29"), // and back to the 29th in the next leap year
        ("2024-02-29", 24, 29, "2026-02-28"), // biennially
        ("2026-12-31", 1, 31, "2027-01-31"),
    ])
    func addingMonthsClampsToMonthEndAndReturnsToTheAnchor(start: String, months: Int, anchor: Int, expected: String) throws {
        #expect(try date(start).adding(months: months, anchorDay: anchor) == date(expected))
    }

    @Test func aMonthlyServiceRegisteredOnThe31stWalksTheYear() throws {
        var due = try date("2026-01-31")
        var seen: [String] = []
        for _ in 0..<12 {
            due = try #require(BillingCycle.monthly.nextDueDate(after: due, anchorDay: 31))
            seen.append(due.iso)
        }
        #expect(seen == [
            "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30", "2026-07-31",
            "2026-08-31", "2026-09-30", "2026-10-31", "2026-11-30", "2026-12-31", "2027-01-31",
        ])
    }

    @Test func cycles() throws {
        #expect(BillingCycle.allCases.map(\.months) == [nil, 1, 3, 6, 12, 24])
        #expect(BillingCycle.oneTime.nextDueDate(after: try date("2026-01-01"), anchorDay: 1) == nil)
        #expect(try BillingCycle(parsing: "Semi_Annually") == .semiAnnually)
        #expect(throws: BillingError.self) { try BillingCycle(parsing: "weekly") }
    }

    @Test func dayArithmeticAcrossLeapDaysAndYears() throws {
        #expect(try date("2024-02-28").adding(days: 1) == date("2024-02-29"))
        #expect(try date("2024-02-29").adding(days: 1) == date("2024-03-01"))
        #expect(try date("2026-12-31").adding(days: 1) == date("2027-01-01"))
        #expect(try date("2026-03-01").adding(days: -1) == date("2026-02-28"))
        #expect(try date("2024-01-01").days(until: date("2025-01-01")) == 366)
        #expect(try date("1970-01-01").daysSinceEpoch == 0)
        #expect(try date("1969-12-31").daysSinceEpoch == -1)
        #expect(try date("2000-03-01").daysSinceEpoch == 11_017)
        for offset in stride(from: -800_000, through: 800_000, by: 997) {
            #expect(BillingDate(daysSinceEpoch: Int64(offset)).daysSinceEpoch == Int64(offset))
        }
        #expect(try date("2026-01-31") < date("2026-02-01"))
        #expect(try date("2026-01-31").iso == "2026-01-31")
    }

    @Test func todayDependsOnTheBillingTimeZone() throws {
        // 2026-03-01 02:30 UTC is still February 28th in New York and already March 1st in Tokyo.
        let instant = Date(timeIntervalSince1970: 1_772_332_200)
        #expect(BillingDate(instant, in: TimeZone(identifier: "UTC")!) == (try date("2026-03-01")))
        #expect(BillingDate(instant, in: TimeZone(identifier: "America/New_York")!) == (try date("2026-02-28")))
        #expect(BillingDate(instant, in: TimeZone(identifier: "Asia/Tokyo")!) == (try date("2026-03-01")))
        // Across daylight saving (New York springs forward on 2026-03-08).
        let newYork = TimeZone(identifier: "America/New_York")!
        let start = try date("2026-03-08").startInstant(in: newYork)
        #expect(start == Date(timeIntervalSince1970: 1_772_946_000)) // 05:00 UTC (EST, UTC-5)
        #expect(BillingDate(start, in: newYork) == (try date("2026-03-08")))
        #expect(BillingDate(start.addingTimeInterval(-1), in: newYork) == (try date("2026-03-07")))
        let nextStart = try date("2026-03-09").startInstant(in: newYork)
        #expect(nextStart.timeIntervalSince(start) == 23 * 3600) // a 23-hour day
        // Before 1970 too.
        #expect(BillingDate(Date(timeIntervalSince1970: -1), in: TimeZone(identifier: "UTC")!) == (try date("1969-12-31")))
    }

    @Test(arguments: [
        ("2026-01-01", "2026-01-31", "2026-01-16", Int64(3000), Int64(1500)), // 15 of 30 days
        ("2026-01-01", "2026-02-01", "2026-01-01", 3100, 3100), // whole period
        ("2026-01-01", "2026-02-01", "2026-02-01", 3100, 0), // nothing left
        ("2026-01-01", "2026-02-01", "2025-12-01", 3100, 3100), // before the period: all of it
        ("2026-02-01", "2026-03-01", "2026-02-15", 1000, 500), // 14 of 28
        ("2024-02-01", "2024-03-01", "2024-02-15", 1000, 517), // 15 of 29 = 517.24 → 517
        ("2026-01-01", "2026-01-04", "2026-01-03", 100, 33), // 1 of 3 = 33.3 → 33
        ("2026-01-01", "2026-01-04", "2026-01-02", 100, 67), // 2 of 3 = 66.7 → 67
        ("2026-01-01", "2026-01-05", "2026-01-03", 1, 1), // 0.5 → 1 (half away from zero)
    ])
    func proration(start: String, end: String, from: String, amount: Int64, expected: Int64) throws {
        let prorated = try Proration.amount(Money(minorUnits: amount, currency: .usd), periodStart: date(start), periodEnd: date(end), from: date(from))
        #expect(prorated.minorUnits == expected)
    }

    @Test func prorationNeedsARealPeriod() throws {
        #expect(throws: BillingError.self) {
            try Proration.amount(Money(minorUnits: 1, currency: .usd), periodStart: date("2026-01-02"), periodEnd: date("2026-01-02"), from: date("2026-01-01"))
        }
    }

    @Test func invoiceNumberFormats() throws {
        let format = try InvoiceNumberFormat("INV-{YYYY}-{SEQ:6}")
        let day = try date("2026-03-05")
        #expect(format.render(sequence: 123, date: day) == "INV-2026-000123")
        #expect(format.render(sequence: 1_234_567, date: day) == "INV-2026-1234567")
        #expect(format.sequenceKey(for: day) == "INV-2026-{SEQ}")
        #expect(format.sequenceKey(for: try date("2027-01-01")) != format.sequenceKey(for: day)) // restarts every year
        let monthly = try InvoiceNumberFormat("{YY}{MM}/{SEQ}")
        #expect(monthly.render(sequence: 7, date: day) == "2603/7")
        #expect(try InvoiceNumberFormat("{SEQ:4}").sequenceKey(for: day) == "{SEQ}")
        for bad in ["INV-{YYYY}", "{SEQ}{SEQ}", "INV {SEQ}", "{SEQ:0}", "{DAY}{SEQ}", "{SEQ", "<{SEQ}>"] {
            #expect(throws: BillingError.self) { try InvoiceNumberFormat(bad) }
        }
    }
}

@Suite struct BillingDateTextTests {
    @Test func everyDayRoundTripsThroughISOText() throws {
        var date = try BillingDate(year: 2023, month: 12, day: 25)
        for _ in 0..<(4 * 366) {
            let text = date.iso
            #expect(text.count == 10)
            #expect(try BillingDate(iso: text) == date)
            date = date.adding(days: 1)
        }
        #expect(try BillingDate(year: 1, month: 1, day: 1).iso == "0001-01-01")
        #expect(try BillingDate(iso: "9999-12-31").year == 9999)
    }

    @Test func anythingButYYYYMMDDIsRefusedNamingTheField() {
        for text in ["", "2026-1-01", "2026-01-1", "2026-01-011", "+026-01-01", "2026/01/01", "2026-02-30", "2026-13-01", "abcd-ef-gh", "2026-01-0١", " 2026-01-01", "0000-01-01"] {
            #expect(throws: BillingError.self, "\(text)") { try BillingDate(iso: text, field: "due_date") }
        }
    }
}
