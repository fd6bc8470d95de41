import Foundation
import SteadfastDomain
import Testing

/// The automatic capture's schedule: first attempt at once, retries after each failure by
/// `billing.capture_retry`, an unfinished attempt resumed under its own number.
struct CapturePlanTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)
    let day: TimeInterval = 86_400
    let plan = CapturePlan(retry: [.seconds(86_400), .seconds(3 * 86_400)])

    func failed(_ number: Int, at offset: TimeInterval) -> CapturePlan.Attempt {
        CapturePlan.Attempt(number: number, status: .failed, finishedAt: start.addingTimeInterval(offset))
    }

    @Test func theFirstAttemptIsAtOnce() {
        #expect(plan.decide(attempts: [], now: start) == .charge(attempt: 1))
    }

    @Test func anUnfinishedAttemptIsResumedUnderItsNumberNeverChargedAnew() {
        let attempts = [failed(1, at: 0), CapturePlan.Attempt(number: 2, status: .charging, finishedAt: nil)]
        #expect(plan.decide(attempts: attempts, now: start.addingTimeInterval(10 * day)) == .resume(attempt: 2))
    }

    @Test func retriesWaitForTheirDelayAfterTheFailureBefore() {
        let one = [failed(1, at: 0)]
        #expect(plan.decide(attempts: one, now: start.addingTimeInterval(day - 1)) == .wait(until: start.addingTimeInterval(day)))
        #expect(plan.decide(attempts: one, now: start.addingTimeInterval(day)) == .charge(attempt: 2))
        let two = [failed(2, at: day + 5), failed(1, at: 0)]
        #expect(plan.decide(attempts: two, now: start.addingTimeInterval(2 * day)) == .wait(until: start.addingTimeInterval(4 * day + 5)))
        #expect(plan.decide(attempts: two, now: start.addingTimeInterval(4 * day + 5)) == .charge(attempt: 3))
    }

    @Test func afterTheLastRetryFailsTheJobGivesUp() {
        let three = [failed(1, at: 0), failed(2, at: day), failed(3, at: 4 * day)]
        #expect(plan.decide(attempts: three, now: start.addingTimeInterval(100 * day)) == .exhausted)
        #expect(CapturePlan(retry: []).decide(attempts: [failed(1, at: 0)], now: start.addingTimeInterval(100 * day)) == .exhausted)
    }

    @Test func aSucceededAttemptWithABalanceLeftIsFollowedByTheNext() {
        let attempts = [CapturePlan.Attempt(number: 1, status: .succeeded, finishedAt: start)]
        #expect(plan.decide(attempts: attempts, now: start) == .charge(attempt: 2))
    }

    @Test func theRetryListUsesTheOneDurationGrammar() {
        #expect(CapturePlan.parseRetry(["1d", " 3d", "12h", ""]) == .success([.seconds(86_400), .seconds(3 * 86_400), .seconds(12 * 3_600)]))
        #expect(CapturePlan.parseRetry([]) == .success([]))
        #expect(CapturePlan.parseRetry(["1d", "soon"]) == .failure(CapturePlan.RetryError(item: "soon")))
        #expect(CapturePlan.parseRetry(["30s"]) == .failure(CapturePlan.RetryError(item: "30s")), "under a minute")
        #expect(CapturePlan.parseRetry(["5"]) == .failure(CapturePlan.RetryError(item: "5")), "a bare number has no unit here")
        #expect(CapturePlan.parseRetry(["-1d"]) == .failure(CapturePlan.RetryError(item: "-1d")))
    }
}
