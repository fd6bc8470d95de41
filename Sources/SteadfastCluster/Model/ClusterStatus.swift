import Foundation

/// What `cluster status` reports, in the shape `--json` prints (a contract other tools rely on:
/// every key is always present, `null` when not applicable).
public struct ClusterStatus: Codable, Sendable, Equatable {
    public enum Health: String, Codable, Sendable {
        /// Running and answering its health check.
        case up
        /// Not running although nobody stopped it (killed, crashed), or running but not answering.
        case down
        /// A node the balancer drains or that answers /readyz with `draining`.
        case draining
        /// Stopped on purpose (`cluster stop`, `cluster down`).
        case stopped
    }

    public enum Role: String, Codable, Sendable {
        case primary, standby, leader, replica
    }

    public struct Component: Codable, Sendable, Equatable {
        public var name: String
        public var kind: ComponentKind
        public var role: Role?
        public var address: String
        public var health: Health
        public var pid: Int32?
        public var lagBytes: Int64?

        public init(name: String, kind: ComponentKind, role: Role? = nil, address: String, health: Health, pid: Int32?, lagBytes: Int64? = nil) {
            self.name = name
            self.kind = kind
            self.role = role
            self.address = address
            self.health = health
            self.pid = pid
            self.lagBytes = lagBytes
        }

        enum CodingKeys: String, CodingKey {
            case name, kind, role, address, health, pid
            case lagBytes = "lag_bytes"
        }

        // Written by hand so absent values are `null`, not missing keys.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(kind, forKey: .kind)
            try container.encode(role, forKey: .role)
            try container.encode(address, forKey: .address)
            try container.encode(health, forKey: .health)
            try container.encode(pid, forKey: .pid)
            try container.encode(lagBytes, forKey: .lagBytes)
        }
    }

    public var directory: String
    public var url: String
    public var admin: AdminAccount
    public var topology: ClusterTopology
    public var db: ClusterDatabaseMode
    public var sticky: Bool
    public var balancerAdmin: String
    public var balancerAdminTokenFile: String
    public var components: [Component]

    public init(
        directory: String, url: String, admin: AdminAccount, topology: ClusterTopology, db: ClusterDatabaseMode, sticky: Bool,
        balancerAdmin: String, balancerAdminTokenFile: String, components: [Component]
    ) {
        self.directory = directory
        self.url = url
        self.admin = admin
        self.topology = topology
        self.db = db
        self.sticky = sticky
        self.balancerAdmin = balancerAdmin
        self.balancerAdminTokenFile = balancerAdminTokenFile
        self.components = components
    }

    enum CodingKeys: String, CodingKey {
        case directory, url, admin, topology, db, sticky
        case balancerAdmin = "balancer_admin"
        case balancerAdminTokenFile = "balancer_admin_token_file"
        case components
    }

    public func component(_ name: String) -> Component? { components.first { $0.name == name } }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// The table `cluster status` prints.
    public func table() -> String {
        var rows = [["COMPONENT", "KIND", "ROLE", "ADDRESS", "HEALTH", "PID", "LAG"]]
        for component in components {
            rows.append([
                component.name, component.kind.rawValue, component.role?.rawValue ?? "-", component.address, component.health.rawValue,
                component.pid.map(String.init) ?? "-", component.lagBytes.map { "\($0) B" } ?? "-",
            ])
        }
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max()! }
        return rows.map { row in
            zip(row, widths).map { $0.0.padding(toLength: $0.1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
