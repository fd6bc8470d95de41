import Testing
@testable import SteadfastChaos

/// Hand-made records: `ok(at, ms)` and `fail(at, kind)`.
func ok(_ start: Double, _ milliseconds: Double = 10, kind: RequestKind = .page, visitor: Int = 0) -> RequestRecord {
    RequestRecord(start: start, duration: milliseconds / 1000, kind: kind, route: "GET /x", status: 200, failure: nil, visitor: visitor)
}

func fail(_ start: Double, _ failure: FailureKind = .serverError, _ milliseconds: Double = 10, kind: RequestKind = .page, status: Int? = 503, visitor: Int = 0) -> RequestRecord {
    RequestRecord(start: start, duration: milliseconds / 1000, kind: kind, route: "GET /x", status: status, failure: failure, visitor: visitor)
}

@Suite struct StatisticsTests {
    @Test func emptyRunHasFullAvailabilityAndNoSeconds() {
        let stats = RunStatistics(records: [])
        #expect(stats.requests == 0 && stats.availabilityPercent == 100 && stats.perSecond.isEmpty && stats.p99Milliseconds == 0)
    }

    @Test func percentilesComeFromTheLatencies() {
        // 100 requests of 1..100 ms: p50 is 50 ms, p99 is 99 ms (HdrHistogram keeps three digits).
        let records = (1...100).map { ok(Double($0) / 100, Double($0)) }
        let stats = RunStatistics(records: records)
        #expect(abs(stats.p50Milliseconds - 50) < 0.1)
        #expect(abs(stats.p99Milliseconds - 99) < 0.1)
        #expect(abs(stats.maxMilliseconds - 100) < 0.1)
    }

    @Test func availabilityAndFailuresByKind() {
        let records = [ok(0), ok(0.1), fail(0.2, .reset, status: nil), fail(0.3), fail(0.4), ok(0.5), ok(0.6), ok(0.7)]
        let stats = RunStatistics(records: records)
        #expect(stats.requests == 8 && stats.failed == 3)
        #expect(stats.availabilityPercent == 62.5)
        #expect(stats.failuresByKind == ["reset": 1, "5xx": 2])
    }

    @Test func theLongestErrorStreakIsCountedInStartOrder() {
        // Given out of order: sorted by start, the failures at 2.0, 2.5, 3.0 are consecutive.
        let records = [fail(3.0, .timeout, 1000), ok(1), fail(1.5), ok(1.8), fail(2.0), fail(2.5), ok(4.5)]
        let stats = RunStatistics(records: records)
        #expect(stats.longestErrorStreak.count == 3)
        #expect(stats.longestErrorStreak.start == 2.0)
        // From the first one's start (2.0) to the last one's end (3.0 + 1 s).
        #expect(abs(stats.longestErrorStreak.seconds - 2.0) < 1e-9)
    }

    @Test func perSecondBucketsCoverEverySecondEvenEmptyOnes() {
        let records = [ok(0.1, 5), ok(0.9, 7), fail(0.95), ok(3.2, 40)]
        let stats = RunStatistics(records: records)
        #expect(stats.perSecond.map(\.second) == [0, 1, 2, 3])
        #expect(stats.perSecond.map(\.requests) == [3, 0, 0, 1])
        #expect(stats.perSecond.map(\.errors) == [1, 0, 0, 0])
        #expect(abs(stats.perSecond[3].p99Milliseconds - 40) < 0.1)
        #expect(stats.perSecond[1].p99Milliseconds == 0)
    }
}
