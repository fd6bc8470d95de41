import ArgumentParser
import Foundation
import SteadfastCluster
import SteadfastConfig
import SteadfastJobs

/// `steadfast cluster ...`: a whole high-availability cluster on this machine (docs/cluster.md).
/// The work is in `SteadfastCluster`; this file parses arguments and prints.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Run and operate a whole cluster on 127.0.0.1: database, storage, nodes and the balancer.",
        discussion: "State and logs live in one directory (--dir, default ./steadfast-cluster). See docs/cluster.md.",
        subcommands: [Up.self, Status.self, Down.self, Kill.self, Stop.self, Start.self, RollingRestart.self, Failover.self]
    )

    struct DirectoryOption: ParsableArguments {
        @Option(name: .long, help: "The cluster's directory (state and logs).")
        var dir: String = "./steadfast-cluster"
    }

    /// `cluster up`.
    struct Up: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a cluster and wait until it serves; prints the URL, the admin's log-in and what runs where."
        )

        @Option(help: "Portal nodes (1-16).") var nodes: Int = 3
        @Option(help: "Where files go: shared-dir (one directory every node uses) or s3 (SeaweedFS, objects kept on disk under the cluster directory).") var topology: ClusterTopology = .sharedDir
        @Flag(help: "Sticky sessions at the balancer (the legacy topology, with shared-dir).") var sticky = false
        @Option(help: "patroni (etcd + three PostgreSQL under Patroni) or promote (primary + synchronous standby).") var db: ClusterDatabaseMode = .patroni
        @Option(name: .customLong("admin-email"), help: "E-mail of the first staff account (default admin@steadfast.local).") var adminEmail: String?
        @Option(name: .customLong("admin-password"), help: "Its password (default: a random one, printed and kept in DIR/admin.json).") var adminPassword: String?
        @Option(name: .customLong("node-setting"), help: "KEY=VALUE given to every node (serve --set); repeatable.") var nodeSettings: [String] = []
        @OptionGroup var directory: DirectoryOption

        func validate() throws {
            if adminPassword != nil && adminEmail == nil {
                throw ValidationError("--admin-password needs --admin-email")
            }
        }

        func run() async throws {
            let options = ClusterOptions(nodes: nodes, topology: topology, sticky: sticky, database: db, nodeSettings: nodeSettings)
            let admin = adminEmail.map { AdminAccount(email: $0, password: adminPassword ?? ClusterFiles.secret(bytes: 12)) }
            let controller = try await ClusterCommand.perform {
                try await ClusterController.up(
                    directory: directory.dir, options: options, admin: admin,
                    steadfast: ClusterCommand.executable, environment: ProcessInfo.processInfo.environment, say: ClusterCommand.say
                )
            }
            ClusterCommand.say(controller.summary(await controller.status()))
        }
    }

    /// `cluster status`.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each component's role, address, health, pid and replication lag.")
        @Flag(help: "One JSON object (the format is documented in docs/cluster.md).") var json = false
        @OptionGroup var directory: DirectoryOption

        func run() async throws {
            let controller = try ClusterCommand.open(directory.dir)
            let status = await controller.status()
            if json {
                ClusterCommand.say(status.json())
            } else {
                ClusterCommand.say("\(status.url)   (\(status.db.rawValue), \(status.topology.rawValue)\(status.sticky ? ", sticky" : ""))\n\n\(status.table())")
            }
        }
    }

    /// `cluster down`.
    struct Down: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop every component gracefully (balancer first, database last).")
        @Flag(help: "Also delete the directory (data and logs).") var purge = false
        @OptionGroup var directory: DirectoryOption

        func run() async throws {
            let controller = try ClusterCommand.open(directory.dir)
            try await ClusterCommand.perform { try await controller.down(purge: purge) }
        }
    }

    /// `cluster kill NAME`.
    struct Kill: ComponentCommand {
        static let configuration = CommandConfiguration(abstract: "SIGKILL a component (a database with its child processes); returns when it is gone.")
        @Argument(help: "balancer, node-N, db-N, etcd or storage.") var component: String
        @OptionGroup var directory: DirectoryOption
        static func operate(_ controller: ClusterController, _ name: String) async throws { try await controller.kill(name) }
    }

    /// `cluster stop NAME`.
    struct Stop: ComponentCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a component gracefully and wait for it to exit.")
        @Argument(help: "balancer, node-N, db-N, etcd or storage.") var component: String
        @OptionGroup var directory: DirectoryOption
        static func operate(_ controller: ClusterController, _ name: String) async throws { try await controller.stop(name) }
    }

    /// `cluster start NAME`.
    struct Start: ComponentCommand {
        static let configuration = CommandConfiguration(abstract: "Start a component again (same address and configuration) and wait until it is ready.")
        @Argument(help: "balancer, node-N, db-N, etcd or storage.") var component: String
        @OptionGroup var directory: DirectoryOption
        static func operate(_ controller: ClusterController, _ name: String) async throws { try await controller.start(name) }
    }

    /// `cluster rolling-restart`.
    struct RollingRestart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rolling-restart",
            abstract: "Restart every node, one at a time, without a failed request: drain, wait, stop, start, wait, readmit."
        )
        @OptionGroup var directory: DirectoryOption

        func run() async throws {
            let controller = try ClusterCommand.open(directory.dir)
            let configuration = try ClusterCommand.databaseConfiguration(controller.state)
            try await OperatorDatabase.with(configuration, label: "steadfast.cluster", schema: .asIs, options: .init(logLevel: .warning)) { database, _ in
                try await ClusterCommand.perform {
                    try await controller.rollingRestart { node in try await JobStore(database: database).running(holder: node).count }
                }
            }
        }
    }

    /// `cluster failover`.
    struct Failover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "kill -9 the database primary (with promote: promote the standby); returns when the new primary accepts writes."
        )
        @OptionGroup var directory: DirectoryOption

        func run() async throws {
            let controller = try ClusterCommand.open(directory.dir)
            try await ClusterCommand.perform { try await controller.failover() }
        }
    }

    // MARK: Helpers

    static func open(_ directory: String) throws -> ClusterController {
        try perform {
            try ClusterController(directory: directory, steadfast: executable, environment: ProcessInfo.processInfo.environment, say: say)
        }
    }

    /// Runs `body`; a ``ClusterError`` is printed as `steadfast cluster: MESSAGE` with exit status 1.
    static func perform<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as ClusterError {
            throw fail(error)
        }
    }

    static func perform<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as ClusterError {
            throw fail(error)
        }
    }

    private static func fail(_ error: ClusterError) -> ExitCode {
        FileHandle.standardError.write(Data("steadfast cluster: \(error)\n".utf8))
        return ExitCode(1)
    }

    /// Written straight to the file descriptor: stdout may be a pipe (block-buffered).
    @Sendable static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// This binary, which the nodes and the balancer run too.
    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// The node configuration an operator command needs to open the cluster's database.
    static func databaseConfiguration(_ state: ClusterState) throws -> NodeConfiguration {
        var sources = ConfigSources()
        let hosts = state.components(.database).map(\.address)
        try sources.set(ConfigKey.databaseHosts.name, toList: hosts, source: "cluster.json")
        try sources.set(ConfigKey.databaseName.name, to: ClusterState.databaseName, source: "cluster.json")
        try sources.set(ConfigKey.databaseUser.name, to: ClusterState.databaseUser, source: "cluster.json")
        try sources.set(ConfigKey.databasePassword.name, to: state.databasePassword, source: "cluster.json")
        try sources.set(ConfigKey.nodeID.name, to: "cluster-cli", source: "cluster")
        return try NodeConfiguration(sources)
    }
}

/// `cluster kill|stop|start NAME`: one operation on one component.
protocol ComponentCommand: AsyncParsableCommand {
    var component: String { get }
    var directory: ClusterCommand.DirectoryOption { get }
    static func operate(_ controller: ClusterController, _ name: String) async throws
}

extension ComponentCommand {
    func run() async throws {
        let controller = try ClusterCommand.open(directory.dir)
        try await ClusterCommand.perform { try await Self.operate(controller, component) }
    }
}

extension ClusterTopology: ExpressibleByArgument {}
extension ClusterDatabaseMode: ExpressibleByArgument {}
