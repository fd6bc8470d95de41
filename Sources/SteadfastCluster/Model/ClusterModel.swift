import Foundation

/// Where the portal nodes keep files: one directory every node uses (the NAS of the guide's
/// sticky topology), or an S3-compatible bucket (SeaweedFS, which keeps its objects on disk).
public enum ClusterTopology: String, Codable, Sendable, CaseIterable {
    case sharedDir = "shared-dir"
    case s3
}

/// How the database is replicated and failed over.
public enum ClusterDatabaseMode: String, Codable, Sendable, CaseIterable {
    /// etcd and three PostgreSQL servers under Patroni (automatic failover).
    case patroni
    /// A primary and a synchronous standby; `cluster failover` promotes the standby.
    case promote
}

/// What a component is.
public enum ComponentKind: String, Codable, Sendable {
    case node, balancer, database, etcd, storage
}

/// What `cluster up` was asked for.
public struct ClusterOptions: Codable, Sendable, Equatable {
    public var nodes: Int
    public var topology: ClusterTopology
    public var sticky: Bool
    public var database: ClusterDatabaseMode
    /// `KEY=VALUE` settings given to every node (`serve --set`), kept for restarts.
    public var nodeSettings: [String]

    public static let nodeRange = 1...16

    public init(nodes: Int = 3, topology: ClusterTopology = .sharedDir, sticky: Bool = false, database: ClusterDatabaseMode = .patroni, nodeSettings: [String] = []) {
        self.nodes = nodes
        self.topology = topology
        self.sticky = sticky
        self.database = database
        self.nodeSettings = nodeSettings
    }

    /// Checks the options; the error names the flag.
    public func validate() throws(ClusterError) {
        guard Self.nodeRange.contains(nodes) else {
            throw ClusterError("--nodes: expected a whole number from \(Self.nodeRange.lowerBound) to \(Self.nodeRange.upperBound), got \(nodes)")
        }
        for setting in nodeSettings where !setting.contains("=") || setting.hasPrefix("=") {
            throw ClusterError("--node-setting: expected KEY=VALUE, got '\(setting)'")
        }
    }
}

/// One process of the cluster, as planned at `cluster up` and kept in the state file: its name
/// (the contract: `balancer`, `node-N`, `db-N`, `etcd`, `storage`), what it is, and the fixed
/// ports it listens on, so a restart comes back on the same address.
public struct ComponentSpec: Codable, Sendable, Equatable {
    public var name: String
    public var kind: ComponentKind
    /// The port clients use (HTTP for nodes, the proxy for the balancer, PostgreSQL, S3, etcd's client port).
    public var port: Int
    /// A second port: the balancer's admin API, Patroni's REST API, etcd's peer port.
    public var controlPort: Int?
    /// Ports only the component's own parts use: the storage's SeaweedFS master, volume server
    /// and filer (HTTP and gRPC each) and its S3 gateway's gRPC, in ``SeaweedPorts`` order.
    /// `nil` for every other component (and in state files written before it existed).
    public var internalPorts: [Int]?

    public init(name: String, kind: ComponentKind, port: Int, controlPort: Int? = nil, internalPorts: [Int]? = nil) {
        self.name = name
        self.kind = kind
        self.port = port
        self.controlPort = controlPort
        self.internalPorts = internalPorts
    }

    public var address: String { "127.0.0.1:\(port)" }
}

/// Everything a later command needs to operate the cluster: written once by `cluster up` to
/// `DIR/cluster.json` (mode 0600: it holds the database password).
public struct ClusterState: Codable, Sendable, Equatable {
    public var version = 1
    /// Absolute path of the cluster directory.
    public var directory: String
    public var options: ClusterOptions
    /// Password of the PostgreSQL users (`postgres`, `replicator` and the portal's `steadfast`).
    public var databasePassword: String
    /// The secret access key of the storage's only S3 identity (``storageAccessKeyID``), for
    /// `--topology s3`; `nil` otherwise.
    public var storageSecretKey: String?
    public var components: [ComponentSpec]

    public init(directory: String, options: ClusterOptions, databasePassword: String, storageSecretKey: String? = nil, components: [ComponentSpec]) {
        self.directory = directory
        self.options = options
        self.databasePassword = databasePassword
        self.storageSecretKey = storageSecretKey
        self.components = components
    }

    public func component(_ name: String) -> ComponentSpec? { components.first { $0.name == name } }
    public func components(_ kind: ComponentKind) -> [ComponentSpec] { components.filter { $0.kind == kind } }
    public var balancer: ComponentSpec? { components(.balancer).first }

    /// The component called `name`, or an error listing the names there are.
    public func require(_ name: String) throws(ClusterError) -> ComponentSpec {
        guard let component = component(name) else {
            throw ClusterError("no component '\(name)' in this cluster; there are: \(components.map(\.name).joined(separator: ", "))")
        }
        return component
    }

    /// The portal's URL (through the balancer).
    public var url: String { "http://127.0.0.1:\(balancer?.port ?? 0)" }
    public var balancerAdminURL: String { "http://127.0.0.1:\(balancer?.controlPort ?? 0)" }

    // Files under the directory.
    public var stateFile: String { Self.stateFile(in: directory) }
    public var adminFile: String { directory + "/admin.json" }
    public var balancerConfigFile: String { directory + "/balancer/balancer.yaml" }
    public var balancerTokenFile: String { directory + "/balancer/admin.token" }
    public var sharedFilesDirectory: String { directory + "/shared-files" }
    public func componentDirectory(_ name: String) -> String { directory + "/" + name }
    public func logFile(_ name: String) -> String { directory + "/logs/" + name + ".log" }
    public func processFile(_ name: String) -> String { directory + "/run/" + name + ".json" }
    public func dataDirectory(_ name: String) -> String { componentDirectory(name) + "/data" }

    public static func stateFile(in directory: String) -> String { directory + "/cluster.json" }

    /// The S3 bucket the nodes use in the `s3` topology.
    public static let bucket = "steadfast-files"
    /// The access key ID of the storage's only S3 identity (its secret: ``storageSecretKey``).
    public static let storageAccessKeyID = "steadfast-cluster"
    /// The storage's identities file (SeaweedFS `-s3.config`, mode 0600: it holds the secret).
    public var storageIdentitiesFile: String { componentDirectory("storage") + "/s3-identities.json" }
    /// The portal's database and its owner.
    public static let databaseName = "steadfast"
    public static let databaseUser = "steadfast"
}

/// The first staff account, chosen at `cluster up` and kept in `DIR/admin.json` (mode 0600).
public struct AdminAccount: Codable, Sendable, Equatable {
    public var email: String
    public var password: String

    public init(email: String, password: String) {
        self.email = email
        self.password = password
    }
}

/// A cluster command failed; the message says what and what to do.
public struct ClusterError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
