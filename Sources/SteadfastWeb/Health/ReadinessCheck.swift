import SteadfastPersistence
import SteadfastStorage

/// One dependency `/readyz` checks (`database`, `storage`...). A check throws to report failure
/// and returns an ``Outcome`` otherwise; messages are shown in the readiness answer, so they must
/// not contain secrets.
public struct ReadinessCheck: Sendable {
    /// A passing check's result: healthy, or usable in a reduced way (`degraded`).
    public struct Outcome: Sendable {
        /// Why the dependency is only partly usable (e.g. "no primary: reads only"), if it is.
        public var degraded: String?
        /// Per-server detail for the database check.
        public var hosts: [HostStatus]?

        public init(degraded: String? = nil, hosts: [HostStatus]? = nil) {
            self.degraded = degraded
            self.hosts = hosts
        }

        public static let healthy = Outcome()
    }

    /// A failing check's error, with per-server detail when there is some.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public var hosts: [HostStatus]?

        public init(_ description: String, hosts: [HostStatus]? = nil) {
            self.description = description
            self.hosts = hosts
        }
    }

    public let name: String
    let run: @Sendable () async throws -> Outcome

    public init(name: String, run: @escaping @Sendable () async throws -> Outcome) {
        self.name = name
        self.run = run
    }

    /// The database check: fails when no server can answer; degraded (but ready) when only
    /// standbys can, since reads still work; reports every host's role and lag.
    public static func database(_ database: any SQLDatabase) -> ReadinessCheck {
        ReadinessCheck(name: "database") {
            do {
                try await database.ping()
            } catch {
                let hosts = await database.hostStatuses()
                throw Failure("\(error)", hosts: hosts.isEmpty ? nil : hosts)
            }
            let hosts = await database.hostStatuses()
            return Outcome(
                degraded: database.canWrite ? nil : "no primary reachable: serving reads from a standby, writes answer 503",
                hosts: hosts.isEmpty ? nil : hosts
            )
        }
    }
}

extension ReadinessCheck {
    /// The storage check: every configured target answers a cheap check (a local directory that
    /// exists and is writable; an S3 bucket that answers).
    ///
    /// A local directory that fails is this node's problem (a mount missing here): the check
    /// fails and the balancer takes the node out. An S3 store that fails is shared by every
    /// node, so taking them all out would turn a files outage into a whole-portal outage: the
    /// node stays ready, `degraded`, and only uploads and downloads answer 503 until it is back.
    public static func storage(_ registry: StorageRegistry) -> ReadinessCheck {
        ReadinessCheck(name: "storage") {
            let checks = await registry.healthCheck(timeout: .seconds(2))
            let failing = checks.filter { !$0.isHealthy }
            let local = failing.filter { registry.targets[$0.target] is LocalFileStorage }
            guard local.isEmpty else {
                throw Failure(failing.map(\.line).joined(separator: "; "))
            }
            guard failing.isEmpty else {
                return Outcome(degraded: "shared storage not answering, files answer 503: " + failing.map(\.line).joined(separator: "; "))
            }
            return .healthy
        }
    }
}
