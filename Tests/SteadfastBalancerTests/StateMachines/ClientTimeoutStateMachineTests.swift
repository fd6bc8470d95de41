import NIOCore
import Testing

@testable import SteadfastBalancer

/// Scenario tests of ``ClientTimeoutStateMachine``: one or more per row of its transition table,
/// driving it as ``ClientTimeouts`` does (a `.armTimer` is followed by `timerFired` at that time
/// at the earliest), with time passed in.
@Suite("ClientTimeoutStateMachine")
struct ClientTimeoutStateMachineTests {
    typealias Machine = ClientTimeoutStateMachine

    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    /// `t0` plus `seconds` (to the millisecond).
    static func at(_ seconds: Double) -> NIODeadline {
        t0 + .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The defaults: `client_idle_timeout: 60s`, `client_header_timeout: 10s`.
    static func machine(idle: TimeAmount = .seconds(60), header: TimeAmount = .seconds(10)) -> Machine {
        Machine(idleTimeout: idle, headerTimeout: header)
    }

    /// A machine opened at `t0` (its timer armed for `t0 + min(idle, header)`).
    static func opened(idle: TimeAmount = .seconds(60), header: TimeAmount = .seconds(10)) -> Machine {
        var machine = machine(idle: idle, header: header)
        #expect(machine.connectionOpened(now: t0) == .armTimer(at: t0 + min(idle, header)))
        return machine
    }

    // MARK: opening

    @Test func openingStartsTheIdleTimeoutAndWakesByTheHeaderTimeout() {
        var machine = Self.machine()
        #expect(machine.state == .unopened)
        #expect(machine.connectionOpened(now: Self.t0) == .armTimer(at: Self.at(10)), "idle 60 s: wake after the 10 s header timeout")
        #expect(machine.state == .waitingForRequest)
        #expect(machine.deadline == Self.at(60))
        #expect(machine.timerArmed)
        var shortIdle = Self.machine(idle: .seconds(1), header: .seconds(30))
        #expect(shortIdle.connectionOpened(now: Self.t0) == .armTimer(at: Self.at(1)), "idle shorter than header: wake at the idle deadline")
        #expect(shortIdle.deadline == Self.at(1))
    }

    @Test func openingTwiceChangesNothing() {
        var machine = Self.opened()
        let before = machine
        #expect(machine.connectionOpened(now: Self.at(5)) == .none)
        #expect(machine == before, "the first opening's deadline and timer stay")
    }

    @Test func eventsBeforeTheConnectionOpenedAreIgnored() {
        var machine = Self.machine()
        #expect(machine.awaitsFirstByte == false)
        #expect(machine.bytesReceived(now: Self.t0) == .none)
        #expect(machine.requestHeadReceived() == .none)
        #expect(machine.exchangeCompleted(now: Self.t0) == .none)
        #expect(machine.timerFired(now: Self.at(100)) == .none)
        #expect(machine == Self.machine(), "still unopened, no deadline, no timer")
        #expect(machine.connectionOpened(now: Self.t0) == .armTimer(at: Self.at(10)), "opening afterwards works as usual")
    }

    // MARK: idle keep-alive connections

    @Test func anIdleConnectionIsClosedWithout408AtTheIdleTimeout() {
        var machine = Self.opened()
        // The timer wakes every header timeout while waiting, and closes only at the idle deadline.
        for wake in stride(from: 10.0, to: 60, by: 10) {
            #expect(machine.timerFired(now: Self.at(wake)) == .armTimer(at: Self.at(min(60, wake + 10))), "at \(wake) s")
            #expect(machine.state == .waitingForRequest)
        }
        #expect(machine.timerFired(now: Self.at(60)) == .close, "at the idle deadline: closed, no 408")
        #expect(machine.state == .closed)
        #expect(machine.timerArmed == false)
    }

    @Test func aTimerFiringJustBeforeTheIdleDeadlineIsArmedForIt() {
        var machine = Self.opened(idle: .seconds(1), header: .seconds(30))
        #expect(machine.timerFired(now: Self.at(0.999)) == .armTimer(at: Self.at(1)))
        #expect(machine.state == .waitingForRequest)
        #expect(machine.timerFired(now: Self.at(1.5)) == .close, "a late timer closes too")
    }

    @Test func anExchangeRestartsTheIdleTimeoutFromItsEnd() {
        var machine = Self.opened(idle: .seconds(1), header: .seconds(30))
        #expect(machine.bytesReceived(now: Self.at(0.2)) == .none)
        #expect(machine.requestHeadReceived() == .none)
        #expect(machine.exchangeCompleted(now: Self.at(0.9)) == .none, "the armed timer (at 1 s) is not armed again")
        #expect(machine.state == .waitingForRequest)
        #expect(machine.deadline == Self.at(1.9))
        // The timer armed for the old deadline fires: it is superseded, so it only sleeps again.
        #expect(machine.timerFired(now: Self.at(1)) == .armTimer(at: Self.at(1.9)), "not closed at the old deadline")
        #expect(machine.state == .waitingForRequest)
        #expect(machine.timerFired(now: Self.at(1.9)) == .close)
    }

    // MARK: slow heads (slowloris)

    @Test func aHeadThatIsNotCompleteByTheHeaderDeadlineGets408() {
        var machine = Self.opened()
        #expect(machine.awaitsFirstByte)
        #expect(machine.bytesReceived(now: Self.at(5)) == .none, "the timer armed for 10 s fires before the 15 s deadline")
        #expect(machine.state == .readingHead)
        #expect(machine.deadline == Self.at(15))
        #expect(machine.awaitsFirstByte == false)
        #expect(machine.timerFired(now: Self.at(10)) == .armTimer(at: Self.at(15)), "the old timer is armed again for the head's deadline")
        #expect(machine.state == .readingHead)
        #expect(machine.timerFired(now: Self.at(15)) == .reject408)
        #expect(machine.state == .closed)
        #expect(machine.timerArmed == false)
    }

    @Test func trickledBytesDoNotExtendTheHeaderDeadline() {
        var machine = Self.opened()
        _ = machine.bytesReceived(now: Self.at(1))
        for drip in [2.0, 5, 9, 10.5, 10.999] {
            #expect(machine.bytesReceived(now: Self.at(drip)) == .none)
            #expect(machine.deadline == Self.at(11), "a byte at \(drip) s moved the deadline")
        }
        #expect(machine.timerFired(now: Self.at(10)) == .armTimer(at: Self.at(11)))
        #expect(machine.timerFired(now: Self.at(11)) == .reject408, "cut off 10 s after the first byte, however it dripped")
    }

    @Test func aHeadStartingLateInALongIdleWaitIsCutOffAtItsOwnDeadline() {
        // Idle 60 s: the waiting timer wakes every 10 s, so a head starting at 25 s is caught at 35 s.
        var machine = Self.opened()
        #expect(machine.timerFired(now: Self.at(10)) == .armTimer(at: Self.at(20)))
        #expect(machine.timerFired(now: Self.at(20)) == .armTimer(at: Self.at(30)))
        #expect(machine.bytesReceived(now: Self.at(25)) == .none)
        #expect(machine.timerFired(now: Self.at(30)) == .armTimer(at: Self.at(35)))
        #expect(machine.timerFired(now: Self.at(34.999)) == .armTimer(at: Self.at(35)), "not a moment early")
        #expect(machine.timerFired(now: Self.at(35)) == .reject408)
    }

    @Test func aHeadThatStartsAfterAnExchangeHasItsOwnDeadline() {
        var machine = Self.opened()
        _ = machine.bytesReceived(now: Self.at(1))
        _ = machine.requestHeadReceived()
        #expect(machine.exchangeCompleted(now: Self.at(3)) == .none, "the timer armed at opening is still armed")
        #expect(machine.awaitsFirstByte, "the next request's first byte starts a new head deadline")
        _ = machine.bytesReceived(now: Self.at(4))
        #expect(machine.deadline == Self.at(14))
        #expect(machine.timerFired(now: Self.at(10)) == .armTimer(at: Self.at(14)))
        #expect(machine.timerFired(now: Self.at(14)) == .reject408)
    }

    @Test func onlyTheFirstByteOfAHeadNeedsTheClock() {
        // The driver skips `bytesReceived` (and its clock read) unless `awaitsFirstByte`: in
        // every other state the event must be a no-op.
        var reading = Self.opened()
        _ = reading.bytesReceived(now: Self.at(1))
        var exchange = Self.opened()
        _ = exchange.requestHeadReceived()
        var closed = Self.opened()
        _ = closed.connectionClosed()
        for var machine in [Self.machine(), reading, exchange, closed] {
            #expect(machine.awaitsFirstByte == false)
            let before = machine
            #expect(machine.bytesReceived(now: Self.at(7)) == .none)
            #expect(machine == before, "bytes changed a machine in \(before.state)")
        }
        #expect(Self.opened().awaitsFirstByte)
    }

    // MARK: exchanges

    @Test func aCompleteHeadStopsTheHeaderTimeout() {
        var machine = Self.opened()
        _ = machine.bytesReceived(now: Self.at(5))
        #expect(machine.requestHeadReceived() == .none)
        #expect(machine.state == .inExchange)
        #expect(machine.timerFired(now: Self.at(15)) == .none, "no 408 once the head is complete")
        #expect(machine.state == .inExchange)
        #expect(machine.timerArmed == false, "not armed again during the exchange")
    }

    @Test func aPipelinedHeadStartsAnExchangeWithoutBytesEvent() {
        // A head parsed from bytes read during the previous exchange: no bytes event before it.
        var machine = Self.opened()
        _ = machine.requestHeadReceived()
        _ = machine.exchangeCompleted(now: Self.at(2))
        #expect(machine.state == .waitingForRequest)
        #expect(machine.requestHeadReceived() == .none)
        #expect(machine.state == .inExchange)
        #expect(machine.timerFired(now: Self.at(62)) == .none, "past the idle deadline, but a request is in flight")
    }

    @Test func timersDuringALongExchangeDoNothing() {
        var machine = Self.opened(idle: .seconds(1), header: .seconds(1))
        _ = machine.bytesReceived(now: Self.at(0.1))
        _ = machine.requestHeadReceived()
        #expect(machine.timerFired(now: Self.at(1)) == .none)
        #expect(machine.bytesReceived(now: Self.at(2)) == .none, "body bytes of the request")
        #expect(machine.state == .inExchange)
        #expect(machine.timerFired(now: Self.at(1000)) == .none, "a request in flight longer than both timeouts is not cut")
        #expect(machine.state == .inExchange)
    }

    @Test func anExchangeCompletingWithoutATimerArmsOne() {
        var machine = Self.opened()
        _ = machine.requestHeadReceived()
        #expect(machine.timerFired(now: Self.at(10)) == .none)
        #expect(machine.exchangeCompleted(now: Self.at(100)) == .armTimer(at: Self.at(110)), "min(100 + 60, 100 + 10)")
        #expect(machine.state == .waitingForRequest)
        #expect(machine.deadline == Self.at(160))
        var shortIdle = Self.opened(idle: .seconds(1), header: .seconds(30))
        _ = shortIdle.requestHeadReceived()
        _ = shortIdle.timerFired(now: Self.at(1))
        #expect(shortIdle.exchangeCompleted(now: Self.at(50)) == .armTimer(at: Self.at(51)))
        #expect(shortIdle.timerFired(now: Self.at(51)) == .close, "idle again: closed quietly")
    }

    @Test func anExchangeCompletingWhileAHeadIsReadStartsTheIdleWait() {
        // The admin listener reports a whole request then its answer; any state ends in waiting.
        var machine = Self.opened()
        _ = machine.bytesReceived(now: Self.at(1))
        #expect(machine.exchangeCompleted(now: Self.at(2)) == .none)
        #expect(machine.state == .waitingForRequest)
        #expect(machine.deadline == Self.at(62))
        #expect(machine.timerFired(now: Self.at(11)) == .armTimer(at: Self.at(21)), "the head's 408 no longer applies")
    }

    // MARK: closing

    @Test func closingCancelsAnArmedTimer() {
        var machine = Self.opened()
        #expect(machine.connectionClosed() == .cancelTimer)
        #expect(machine.state == .closed)
        #expect(machine.timerArmed == false)
        #expect(machine.connectionClosed() == .none, "closed twice (inactive, then removed): nothing to cancel")
    }

    @Test func closingWithoutATimerCancelsNothing() {
        var machine = Self.opened()
        _ = machine.requestHeadReceived()
        _ = machine.timerFired(now: Self.at(10))
        #expect(machine.connectionClosed() == .none)
        #expect(machine.state == .closed)
        var unopened = Self.machine()
        #expect(unopened.connectionClosed() == .none)
        #expect(unopened.connectionOpened(now: Self.t0) == .none, "a closed connection does not open again")
    }

    @Test func aClosedConnectionIgnoresEveryEvent() {
        var idleClosed = Self.opened()
        #expect(idleClosed.timerFired(now: Self.at(60)) == .close)
        var rejected = Self.opened()
        _ = rejected.bytesReceived(now: Self.at(1))
        _ = rejected.timerFired(now: Self.at(10))
        #expect(rejected.timerFired(now: Self.at(11)) == .reject408)
        var gone = Self.opened()
        _ = gone.connectionClosed()
        for var machine in [idleClosed, rejected, gone] {
            let before = machine
            #expect(machine.connectionOpened(now: Self.at(200)) == .none)
            #expect(machine.bytesReceived(now: Self.at(200)) == .none)
            #expect(machine.requestHeadReceived() == .none)
            #expect(machine.exchangeCompleted(now: Self.at(200)) == .none)
            #expect(machine.timerFired(now: Self.at(300)) == .none, "no second close or 408")
            #expect(machine.connectionClosed() == .none)
            #expect(machine == before)
        }
    }

    // MARK: the timer invariant

    @Test func whileWaitingOrReadingATimerIsAlwaysArmedWithinTheHeaderTimeout() {
        // The reason bytes need not arm a timer: every path into `waitingForRequest` or
        // `readingHead` leaves one armed, at most `header` after it was armed.
        var machine = Self.opened(idle: .seconds(3), header: .seconds(2))
        var armedAt = Self.t0
        var fireAt = Self.at(2)
        func check(_ action: Machine.Action, now: NIODeadline, _ step: String) {
            if case .armTimer(let at) = action {
                armedAt = now
                fireAt = at
            }
            if machine.state == .waitingForRequest || machine.state == .readingHead {
                #expect(machine.timerArmed, "\(step): no timer armed")
                #expect(fireAt <= armedAt + .seconds(2), "\(step): timer further than the header timeout")
                if machine.state == .readingHead { #expect(fireAt <= machine.deadline, "\(step): timer after the head's deadline") }
            }
        }
        check(machine.timerFired(now: Self.at(2)), now: Self.at(2), "wake while waiting")
        check(machine.bytesReceived(now: Self.at(3)), now: Self.at(3), "first byte")
        check(machine.requestHeadReceived(), now: Self.at(3.5), "head")
        check(machine.timerFired(now: Self.at(4)), now: Self.at(4), "timer in exchange")
        check(machine.exchangeCompleted(now: Self.at(6)), now: Self.at(6), "exchange completed, no timer")
        check(machine.bytesReceived(now: Self.at(6.5)), now: Self.at(6.5), "next first byte")
        check(machine.requestHeadReceived(), now: Self.at(7), "next head")
        check(machine.exchangeCompleted(now: Self.at(7.5)), now: Self.at(7.5), "exchange completed, timer armed")
        check(machine.timerFired(now: Self.at(8)), now: Self.at(8), "superseded timer")
        check(machine.timerFired(now: Self.at(10)), now: Self.at(10), "wake while waiting")
        #expect(machine.timerFired(now: Self.at(10.5)) == .close)
    }
}
