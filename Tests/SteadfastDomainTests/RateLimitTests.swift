import Foundation
import SteadfastDomain
import Testing

@Suite struct RateLimitTests {
    let tenPerMinute = RateLimit(limit: 10, window: .seconds(60))!

    @Test func windowsAreAlignedToTheEpochSoEveryNodeAgrees() {
        let start = Date(timeIntervalSince1970: 1_800_000_000) // a multiple of 60 s
        let first = tenPerMinute.window(containing: start)
        #expect(first.number == 30_000_000)
        #expect(first.end == start.addingTimeInterval(60))
        #expect(tenPerMinute.window(containing: start.addingTimeInterval(59.999)).number == first.number)
        #expect(tenPerMinute.window(containing: start.addingTimeInterval(60)).number == first.number + 1)
        #expect(tenPerMinute.window(containing: start.addingTimeInterval(-0.001)).number == first.number - 1)
        // Before 1970 windows still count down, never sharing number 0 with the window after it.
        #expect(tenPerMinute.window(containing: Date(timeIntervalSince1970: -1)).number == -1)
        #expect(tenPerMinute.window(containing: Date(timeIntervalSince1970: 0)).number == 0)
    }

    @Test func theLimitsEventIsAllowedAndTheNextIsRefusedUntilTheWindowEnds() {
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let window = tenPerMinute.window(containing: now)
        #expect(tenPerMinute.decision(hits: 1, windowEnd: window.end, now: now) == .allowed)
        #expect(tenPerMinute.decision(hits: 10, windowEnd: window.end, now: now) == .allowed)
        #expect(tenPerMinute.decision(hits: 11, windowEnd: window.end, now: now) == .limited(retryAfterSeconds: 45))
        #expect(tenPerMinute.decision(hits: 500, windowEnd: window.end, now: now.addingTimeInterval(44.2)) == .limited(retryAfterSeconds: 1))
        // Never "retry after 0": a client told 0 would come straight back.
        #expect(tenPerMinute.decision(hits: 11, windowEnd: window.end, now: window.end) == .limited(retryAfterSeconds: 1))
    }

    @Test func nonsenseLimitsCannotBeMade() {
        #expect(RateLimit(limit: 0, window: .seconds(60)) == nil)
        #expect(RateLimit(limit: 5, window: .milliseconds(999)) == nil)
        #expect(RateLimit(limit: 1, window: .seconds(1)) != nil)
    }

    /// A limit tells itself as it is configured (N/DURATION), not as "10 per 60.0 seconds".
    @Test func readsAsItIsWritten() {
        #expect(tenPerMinute.description == "10/1m")
        #expect(RateLimit(limit: 5, window: .seconds(90))?.description == "5/90s")
        #expect(RateLimit(limit: 3, window: .milliseconds(1500))?.description == "3/1500ms")
    }
}
