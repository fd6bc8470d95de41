import NIOCore
import NIOHTTP1
import Testing

@testable import SteadfastBalancer

@Suite("RetryStateMachine")
struct RetryStateMachineTests {
    @Test func connectFailuresAreRetriedForEveryMethodWithoutBudget() {
        var retry = RetryStateMachine(method: .POST, maxAttempts: 3)
        #expect(retry.attemptFailed(.connectFailed) == .retry(spendsBudget: false))
        #expect(retry.state == .attempting(attempt: 2))
        #expect(retry.attemptFailed(.connectFailed) == .retry(spendsBudget: false))
        #expect(retry.attemptFailed(.connectFailed) == .respond(.serviceUnavailable))
        #expect(retry.state == .finished)
    }

    @Test func aPostThatMayHaveArrivedIsNeverResent() {
        var retry = RetryStateMachine(method: .POST, maxAttempts: 3)
        #expect(retry.attemptFailed(.noResponse) == .respond(.badGateway))
        var patch = RetryStateMachine(method: .PATCH, maxAttempts: 3)
        #expect(patch.attemptFailed(.noResponse) == .respond(.badGateway))
    }

    @Test func idempotentMethodsAreRetriedAfterAnEmptyResponseWithBudget() {
        for method in [HTTPMethod.GET, .HEAD, .PUT, .DELETE, .OPTIONS] {
            var retry = RetryStateMachine(method: method, maxAttempts: 2)
            #expect(retry.attemptFailed(.noResponse) == .retry(spendsBudget: true), "\(method)")
            #expect(retry.attemptFailed(.noResponse) == .poisoned, "\(method): a second lost backend poisons the request")
        }
    }

    @Test func aRequestThatKillsTwoBackendsIsNeverSentToAThird() {
        var retry = RetryStateMachine(method: .GET, maxAttempts: 10)
        #expect(retry.attemptFailed(.noResponse) == .retry(spendsBudget: true))
        #expect(retry.backendsLost == 1)
        #expect(retry.state == .attempting(attempt: 2))
        #expect(retry.attemptFailed(.noResponse) == .poisoned)
        #expect(retry.backendsLost == 2)
        #expect(retry.state == .finished)
        #expect(retry.attemptFailed(.noResponse) == .closeClientConnection, "finished takes no more attempts")
    }

    @Test func connectFailuresInBetweenDoNotResetTheCountOfLostBackends() {
        var retry = RetryStateMachine(method: .PUT, maxAttempts: 5)
        #expect(retry.attemptFailed(.noResponse) == .retry(spendsBudget: true))
        #expect(retry.attemptFailed(.connectFailed) == .retry(spendsBudget: false))
        #expect(retry.attemptFailed(.connectFailed) == .retry(spendsBudget: false))
        #expect(retry.backendsLost == 1)
        #expect(retry.attemptFailed(.noResponse) == .poisoned)
    }

    @Test func oneLostBackendIsNotAPoisonedRequest() {
        var post = RetryStateMachine(method: .POST, maxAttempts: 3)
        #expect(post.attemptFailed(.noResponse) == .respond(.badGateway), "a POST is answered 502 after one loss, as before")
        #expect(post.backendsLost == 1)
        var last = RetryStateMachine(method: .GET, maxAttempts: 1)
        #expect(last.attemptFailed(.noResponse) == .respond(.badGateway), "out of attempts after one loss: a plain 502")
        var timedOut = RetryStateMachine(method: .GET, maxAttempts: 3)
        #expect(timedOut.attemptFailed(.noResponse) == .retry(spendsBudget: true))
        #expect(timedOut.attemptFailed(.timedOut) == .respond(.gatewayTimeout), "a silent backend is not a lost one")
        #expect(timedOut.backendsLost == 1)
    }

    @Test func aBodyThatWasNotKeptCannotBeReplayed() {
        var retry = RetryStateMachine(method: .PUT, maxAttempts: 3)
        retry.bodyReplayable = false
        #expect(retry.attemptFailed(.noResponse) == .respond(.badGateway))
    }

    @Test func timeoutsAreNotRetried() {
        var retry = RetryStateMachine(method: .GET, maxAttempts: 3)
        #expect(retry.attemptFailed(.timedOut) == .respond(.gatewayTimeout))
    }

    @Test func aStartedResponseCutsTheClient() {
        var retry = RetryStateMachine(method: .GET, maxAttempts: 3)
        #expect(retry.attemptFailed(.responseStarted) == .closeClientConnection)
        #expect(retry.state == .finished)
    }

    @Test func aRetryWithNowhereToGoAnswers503Or502() {
        var connect = RetryStateMachine(method: .GET, maxAttempts: 3)
        _ = connect.attemptFailed(.connectFailed)
        #expect(connect.retryImpossible(lastPhase: .connectFailed) == .serviceUnavailable)
        var sent = RetryStateMachine(method: .GET, maxAttempts: 3)
        _ = sent.attemptFailed(.noResponse)
        #expect(sent.retryImpossible(lastPhase: .noResponse) == .badGateway)
    }
}

@Suite("RetryBudget")
struct RetryBudgetTests {
    @Test func budgetIsAShareOfRequestsPlusAFloorPerSecond() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var budget = RetryBudget(percent: 20, minPerSecond: 0)
        let ok1 = budget.tryWithdraw(now: start)
        #expect(!ok1)
        for _ in 0..<10 { budget.requestStarted() }
        let ok2 = budget.tryWithdraw(now: start)
        #expect(ok2)
        let ok3 = budget.tryWithdraw(now: start)
        #expect(ok3)
        let ok4 = budget.tryWithdraw(now: start)
        #expect(!ok4, "20% of 10 requests is 2 retries")

        var floor = RetryBudget(percent: 0, minPerSecond: 2)
        let ok5 = floor.tryWithdraw(now: start)
        #expect(ok5)
        let ok6 = floor.tryWithdraw(now: start)
        #expect(ok6)
        let ok7 = floor.tryWithdraw(now: start)
        #expect(!ok7)
        let ok8 = floor.tryWithdraw(now: start + .milliseconds(500))
        #expect(ok8, "half a second refills one token")
        let ok9 = floor.tryWithdraw(now: start + .milliseconds(500))
        #expect(!ok9)
    }
}
