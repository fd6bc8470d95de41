import NIOCore
import Testing

@testable import SteadfastBalancer

@Suite("HealthStateMachine")
struct HealthStateMachineTests {
    let interval = TimeAmount.seconds(2)
    let fast = TimeAmount.milliseconds(500)

    func machine(fall: Int = 3, rise: Int = 2, state: HealthStateMachine.State = .up) -> HealthStateMachine {
        HealthStateMachine(state: state, fall: fall, rise: rise, interval: interval, fastInterval: fast)
    }

    @Test func staysUpWhileChecksPass() {
        var health = machine()
        #expect(health.checkCompleted(.passed) == .init(transition: nil, nextCheckIn: interval))
        #expect(health.state == .up)
        #expect(health.isServing)
    }

    @Test func goesDownAfterFallFailuresCheckingFastMeanwhile() {
        var health = machine(fall: 3)
        #expect(health.checkCompleted(.failed) == .init(transition: nil, nextCheckIn: fast))
        #expect(health.state == .failing(failures: 1))
        #expect(health.isServing, "a failing server still serves until fall is reached")
        #expect(health.checkCompleted(.failed) == .init(transition: nil, nextCheckIn: fast))
        #expect(health.checkCompleted(.failed) == .init(transition: .becameDown, nextCheckIn: interval))
        #expect(health.state == .down)
        #expect(!health.isServing)
        #expect(!health.acceptsStickyRequests)
    }

    @Test func aPassWhileFailingResetsTheCount() {
        var health = machine(fall: 2)
        _ = health.checkCompleted(.failed)
        #expect(health.checkCompleted(.passed) == .init(transition: nil, nextCheckIn: interval))
        #expect(health.state == .up)
        #expect(health.checkCompleted(.failed).transition == nil)
    }

    @Test func comesBackAfterRisePasses() {
        var health = machine(rise: 2, state: .down)
        #expect(health.checkCompleted(.passed) == .init(transition: nil, nextCheckIn: fast))
        #expect(health.state == .recovering(passes: 1))
        #expect(!health.isServing)
        #expect(health.checkCompleted(.passed) == .init(transition: .becameUp, nextCheckIn: interval))
        #expect(health.state == .up)
    }

    @Test func aFailureWhileRecoveringStartsOver() {
        var health = machine(rise: 3, state: .down)
        _ = health.checkCompleted(.passed)
        _ = health.checkCompleted(.passed)
        #expect(health.checkCompleted(.failed) == .init(transition: nil, nextCheckIn: interval))
        #expect(health.state == .down)
    }

    @Test func fallAndRiseOfOneAreImmediate() {
        var health = machine(fall: 1, rise: 1)
        #expect(health.checkCompleted(.failed).transition == .becameDown)
        #expect(health.checkCompleted(.passed).transition == .becameUp)
    }

    @Test func a503MeansDrain() {
        var health = machine()
        #expect(health.checkCompleted(.drainRequested) == .init(transition: .startedDraining, nextCheckIn: interval))
        #expect(health.state == .draining)
        #expect(!health.isServing)
        #expect(health.acceptsStickyRequests, "sticky clients may still reach a draining server")
        #expect(health.checkCompleted(.drainRequested).transition == nil)
        #expect(health.checkCompleted(.passed) == .init(transition: .stoppedDraining, nextCheckIn: interval))
        #expect(health.state == .up)
    }

    @Test func aDrainingServerThatStopsAnsweringIsDown() {
        var health = machine(state: .draining)
        #expect(health.checkCompleted(.failed).transition == .becameDown)
        #expect(health.state == .down)
    }

    @Test func aDownServerAnswering503StaysDown() {
        var health = machine(state: .down)
        #expect(health.checkCompleted(.drainRequested).transition == nil)
        #expect(health.state == .down)
    }

    @Test func passiveEjectionTakesAServingServerDown() {
        var health = machine()
        #expect(health.passiveEjection() == .init(transition: .becameDown, nextCheckIn: interval))
        #expect(health.state == .down)
        #expect(health.passiveEjection().transition == nil)
    }
}
