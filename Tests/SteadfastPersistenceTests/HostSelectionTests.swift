import SteadfastPersistence
import Testing

@Suite struct HostSelectionTests {
    @Test func writesGoToThePrimaryOnly() {
        let roles: [HostRole] = [.standby(lagSeconds: 0), .primary(timeline: 1), .unreachable("down")]
        #expect(HostSelection.choose(.write, roles: roles, attributes: .readWrite, maxLag: 5) == 1)
        #expect(HostSelection.choose(.write, roles: [.standby(lagSeconds: 0), .unknown], attributes: .any, maxLag: 5) == nil)
    }

    @Test func aPromotedStandbyWinsOverAnOldPrimaryStillRunning() {
        let roles: [HostRole] = [.primary(timeline: 1), .primary(timeline: 2)]
        #expect(HostSelection.primary(roles) == 1)
    }

    @Test func readsFollowTargetSessionAttributes() {
        let both: [HostRole] = [.primary(timeline: 3), .standby(lagSeconds: 0.2), .standby(lagSeconds: 0.1)]
        #expect(HostSelection.choose(.read, roles: both, attributes: .readWrite, maxLag: 5) == 0)
        #expect(HostSelection.choose(.read, roles: both, attributes: .preferStandby, maxLag: 5) == 2)
        #expect(HostSelection.choose(.read, roles: both, attributes: .any, maxLag: 5) == 0)
        // No primary: read-write still answers reads from a standby within the bound.
        let noPrimary: [HostRole] = [.unreachable("killed"), .standby(lagSeconds: 1)]
        #expect(HostSelection.choose(.read, roles: noPrimary, attributes: .readWrite, maxLag: 5) == 1)
        #expect(HostSelection.choose(.read, roles: noPrimary, attributes: .readWrite, maxLag: 0.5) == nil)
        // prefer-standby falls back to the primary when standbys lag too much.
        let lagging: [HostRole] = [.primary(timeline: 1), .standby(lagSeconds: 30)]
        #expect(HostSelection.choose(.read, roles: lagging, attributes: .preferStandby, maxLag: 5) == 0)
    }
}

@Suite struct FailureHandlingTests {
    func error(_ kind: DatabaseError.Kind, committed: Bool = false) -> DatabaseError {
        DatabaseError(kind, message: "x", mayHaveCommitted: committed)
    }

    @Test func aReadOnlyRefusalIsAlwaysRetriedAndDemotesTheHost() {
        let decision = FailureHandling.decide(error(.readOnly), readOnlyWork: false, idempotent: false)
        #expect(decision == .init(verdict: .demoted, retry: true))
    }

    @Test func aConnectionLostBeforeCommitIsRetried() {
        #expect(FailureHandling.decide(error(.connectionFailure), readOnlyWork: false, idempotent: false) == .init(verdict: .unreachable, retry: true))
    }

    @Test func workThatMayHaveCommittedIsNeverRetriedUnlessSafe() {
        let unknown = error(.connectionFailure, committed: true)
        #expect(FailureHandling.decide(unknown, readOnlyWork: false, idempotent: false) == .init(verdict: .unreachable, retry: false))
        #expect(FailureHandling.decide(unknown, readOnlyWork: false, idempotent: true).retry)
        #expect(FailureHandling.decide(unknown, readOnlyWork: true, idempotent: false).retry)
        #expect(!FailureHandling.decide(error(.timeout, committed: true), readOnlyWork: false, idempotent: false).retry)
    }

    @Test func applicationErrorsAreNotRetriedAndLeaveTheHostAlone() {
        for kind in [DatabaseError.Kind.uniqueViolation, .constraintViolation, .decoding, .other] {
            #expect(FailureHandling.decide(error(kind), readOnlyWork: false, idempotent: true) == .init(verdict: .healthy, retry: false))
        }
    }
}
