import Foundation

/// The pure part of `cluster up`: which components there are, on which ports, and the exact
/// configuration each one gets. No I/O, so every decision is testable.
public enum ClusterPlan {
    /// The components for `options`, taking ports from `ports` in order (it must hold at least
    /// ``portsNeeded(_:)`` of them). Order is start order: database, storage, nodes, balancer.
    public static func components(_ options: ClusterOptions, ports: [Int]) -> [ComponentSpec] {
        precondition(ports.count >= portsNeeded(options), "not enough ports")
        var next = ports.makeIterator()
        func port() -> Int { next.next()! }
        var components: [ComponentSpec] = []
        switch options.database {
        case .promote:
            for index in 1...2 { components.append(ComponentSpec(name: "db-\(index)", kind: .database, port: port())) }
        case .patroni:
            components.append(ComponentSpec(name: "etcd", kind: .etcd, port: port(), controlPort: port()))
            for index in 1...3 { components.append(ComponentSpec(name: "db-\(index)", kind: .database, port: port(), controlPort: port())) }
        }
        if options.topology == .s3 {
            components.append(ComponentSpec(name: "storage", kind: .storage, port: port(), internalPorts: storagePortFlags.map { _ in port() }))
        }
        for index in 1...options.nodes {
            components.append(ComponentSpec(name: "node-\(index)", kind: .node, port: port()))
        }
        components.append(ComponentSpec(name: "balancer", kind: .balancer, port: port(), controlPort: port()))
        return components
    }

    /// How many ports ``components(_:ports:)`` takes.
    public static func portsNeeded(_ options: ClusterOptions) -> Int {
        let database = options.database == .promote ? 2 : 2 + 3 * 2
        return database + (options.topology == .s3 ? 1 + storagePortFlags.count : 0) + options.nodes + 2
    }

    /// The storage server's flags for its ``ComponentSpec/internalPorts``, in that order. Every
    /// port is given: SeaweedFS's defaults (and gRPC = HTTP + 10000) would collide with other
    /// clusters and servers on the machine.
    public static let storagePortFlags = [
        "-s3.port.grpc", "-master.port", "-master.port.grpc", "-volume.port", "-volume.port.grpc", "-filer.port", "-filer.port.grpc",
    ]

    /// `weed` arguments for the storage: one SeaweedFS process with a master, a volume server, a
    /// filer and the S3 gateway, on loopback, data under `DIR/storage/data` (kept across stop and
    /// start), the S3 identity from ``storageIdentities(_:)``. `-master.peers=none`: a single
    /// master that does not wait out a Raft election when it starts again (about 14 s otherwise).
    /// Volumes of at most 1 GiB, at most 32 of them (files grow as they fill; nothing is
    /// preallocated). No telemetry; the Iceberg and Lance endpoints are off.
    public static func storageArguments(_ state: ClusterState, storage: ComponentSpec) -> [String] {
        let ports = zip(storagePortFlags, storage.internalPorts ?? []).map { "\($0)=\($1)" }
        return [
            "server", "-dir=\(state.dataDirectory(storage.name))", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-master.peers=none", "-master.volumeSizeLimitMB=1024",
            "-volume.max=32", "-volume.preStopSeconds=0",
            "-filer", "-s3", "-s3.config=\(state.storageIdentitiesFile)", "-s3.port=\(storage.port)",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            "-filer.localSocket=\(state.componentDirectory(storage.name))/filer.sock",
            "-s3.localSocket=\(state.componentDirectory(storage.name))/s3.sock",
        ] + ports
    }

    /// The Unix sockets SeaweedFS 4.48 creates beside its gRPC ports at paths it does not let us
    /// choose (`/tmp/seaweedfs-PART-grpc-PORT.sock`) and leaves behind when it is killed; `stop`,
    /// `kill` and `down` remove them once the process is gone.
    public static func storageLeftoverSockets(_ storage: ComponentSpec) -> [String] {
        let ports = Dictionary(uniqueKeysWithValues: zip(storagePortFlags, storage.internalPorts ?? []))
        return [("master", "-master.port.grpc"), ("volume", "-volume.port.grpc"), ("filer", "-filer.port.grpc"), ("s3", "-s3.port.grpc")]
            .compactMap { part, flag in ports[flag].map { "/tmp/seaweedfs-\(part)-grpc-\($0).sock" } }
    }

    /// SeaweedFS's S3 identities file: one identity, the cluster's key, allowed everything. Every
    /// request must be signed with it (SeaweedFS checks signatures).
    public static func storageIdentities(_ state: ClusterState) -> String {
        let identities: [String: Any] = ["identities": [[
            "name": "steadfast-cluster",
            "credentials": [["accessKey": ClusterState.storageAccessKeyID, "secretKey": state.storageSecretKey ?? ""]],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        ]]]
        let data = try! JSONSerialization.data(withJSONObject: identities, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// How long a node answers /readyz 503 before it stops: longer than the balancer needs to
    /// see it (one check at `health.interval`), so no new request reaches a stopping node.
    public static let nodeDrainDelay = "1500ms"
    /// The balancer's check interval: with ``nodeDrainDelay`` above it.
    public static let balancerHealthInterval = "500ms"

    /// `steadfast serve` arguments for a node (secrets go in ``nodeEnvironment(_:admin:)``).
    public static func nodeArguments(_ state: ClusterState, node: ComponentSpec, admin: AdminAccount) -> [String] {
        let hosts = state.components(.database).map(\.address).joined(separator: ",")
        var arguments = [
            "serve", "--host", "127.0.0.1", "--port", String(node.port), "--node-id", node.name,
            "--data-dir", state.componentDirectory(node.name), "--drain-delay", nodeDrainDelay,
            "--trusted-proxy", "127.0.0.1/32", "--admin-email", admin.email,
            "--set", "database.hosts=\(hosts)",
            "--set", "database.name=\(ClusterState.databaseName)",
            "--set", "database.user=\(ClusterState.databaseUser)",
        ]
        switch state.options.topology {
        case .sharedDir:
            arguments += ["--set", "storage.local_path=\(state.sharedFilesDirectory)"]
        case .s3:
            let endpoint = "http://\(state.component("storage")?.address ?? "")"
            // The key comes from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: nodeEnvironment).
            let target: [String: String] = ["name": "s3", "kind": "s3", "bucket": ClusterState.bucket, "endpoint": endpoint]
            arguments += ["--set", "storage.targets=[\(json(target))]", "--set", "storage.default_target=s3"]
        }
        for setting in state.options.nodeSettings { arguments += ["--set", setting] }
        return arguments
    }

    /// The secrets of a node, passed in its environment rather than on its command line (which
    /// any local user can read in `ps`).
    public static func nodeEnvironment(_ state: ClusterState, admin: AdminAccount) -> [String: String] {
        var environment = ["STEADFAST_DATABASE_PASSWORD": state.databasePassword, "STEADFAST_ADMIN_PASSWORD": admin.password]
        if state.options.topology == .s3 {
            environment["AWS_ACCESS_KEY_ID"] = ClusterState.storageAccessKeyID
            environment["AWS_SECRET_ACCESS_KEY"] = state.storageSecretKey ?? ""
        }
        return environment
    }

    /// The balancer's YAML configuration (docs/balancer.md): the nodes as servers, health checks
    /// on /readyz, sticky sessions when asked for, the admin API with a token file.
    public static func balancerConfiguration(_ state: ClusterState) -> String {
        let balancer = state.balancer!
        var lines = [
            "# Written by `steadfast cluster up`; SIGHUP the balancer after editing.",
            "listeners:",
            "  - address: \(balancer.address)",
            "admin:",
            "  address: 127.0.0.1:\(balancer.controlPort!)",
            "  token_file: \(quoted(state.balancerTokenFile))",
            "event_loops: 1",
            "balance: least_connections",
            "slow_start: 2s",
            "shutdown_grace_period: 10s",
            "health:",
            "  path: /readyz",
            "  interval: \(balancerHealthInterval)",
            "  fast_interval: 250ms",
            "  timeout: 1s",
            "  fall: 2",
            "  rise: 2",
            "sticky:",
            "  enabled: \(state.options.sticky)",
            "servers:",
        ]
        for node in state.components(.node) {
            lines += ["  - name: \(node.name)", "    address: \(node.address)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Settings appended to the first PostgreSQL server's `postgresql.conf` (`promote` mode):
    /// loopback only, streaming replication, commits acknowledged only once flushed (and, from
    /// when the standby streams, once the standby has flushed them too).
    public static func primarySettings(_ state: ClusterState, server: ComponentSpec) -> [(String, String)] {
        [
            ("listen_addresses", "'127.0.0.1'"),
            ("port", String(server.port)),
            ("unix_socket_directories", quoted(state.componentDirectory(server.name))),
            ("max_connections", "200"),
            ("shared_buffers", "64MB"),
            ("wal_level", "replica"),
            ("max_wal_senders", "10"),
            ("wal_keep_size", "'256MB'"),
            ("hot_standby", "on"),
            ("wal_log_hints", "on"),
            ("synchronous_commit", "on"),
            // No synchronous standby yet, or creating the portal's database would wait for one
            // forever: `up` sets it to '*' (ALTER SYSTEM) once the standby streams.
            ("synchronous_standby_names", "''"),
            ("wal_retrieve_retry_interval", "'200ms'"),
        ]
    }

    /// Settings appended to a standby's `postgresql.auto.conf` (later lines win): its own port and
    /// socket, where it streams from (under its own name), and no synchronous standby of its own,
    /// or once promoted it would wait for one it does not have.
    public static func standbySettings(_ state: ClusterState, server: ComponentSpec, primary: ComponentSpec) -> [(String, String)] {
        [
            ("port", String(server.port)),
            ("unix_socket_directories", quoted(state.componentDirectory(server.name))),
            ("primary_conninfo", quoted(conninfo(state, primary) + " application_name=\(server.name)")),
            ("synchronous_standby_names", "''"),
            ("wal_retrieve_retry_interval", "'200ms'"),
        ]
    }

    /// A libpq connection string to a server as the `postgres` superuser.
    public static func conninfo(_ state: ClusterState, _ server: ComponentSpec, database: String = "postgres") -> String {
        "host=127.0.0.1 port=\(server.port) user=postgres password=\(state.databasePassword) dbname=\(database)"
    }

    /// One Patroni member's configuration (the same settings as scripts/ha-postgres/patroni-cluster.sh:
    /// synchronous mode, a 10 s ttl, fail-safe mode, pg_rewind).
    public static func patroniConfiguration(_ state: ClusterState, server: ComponentSpec, binDirectory: String) -> String {
        let etcd = state.component("etcd")!
        let directory = state.componentDirectory(server.name)
        return """
            # Written by `steadfast cluster up`.
            scope: steadfast-cluster
            name: \(server.name)
            restapi:
              listen: 127.0.0.1:\(server.controlPort!)
              connect_address: 127.0.0.1:\(server.controlPort!)
            etcd3:
              hosts: \(etcd.address)
            bootstrap:
              dcs:
                ttl: 10
                loop_wait: 2
                retry_timeout: 3
                maximum_lag_on_failover: 1048576
                primary_start_timeout: 0
                synchronous_mode: true
                failsafe_mode: true
                postgresql:
                  use_pg_rewind: true
                  parameters:
                    synchronous_commit: "on"
                    wal_level: replica
                    hot_standby: "on"
                    wal_log_hints: "on"
                    max_wal_senders: 10
                    max_replication_slots: 10
                    max_connections: 200
                    wal_keep_size: 256MB
                    wal_retrieve_retry_interval: 200ms
              initdb:
                - encoding: UTF8
                - locale: C
              pg_hba:
                - host replication replicator 127.0.0.1/32 scram-sha-256
                - host all all 127.0.0.1/32 scram-sha-256
            postgresql:
              listen: \(server.address)
              connect_address: \(server.address)
              data_dir: \(quoted(state.dataDirectory(server.name)))
              bin_dir: \(quoted(binDirectory))
              pgpass: \(quoted(directory + "/pgpass"))
              authentication:
                superuser:
                  username: postgres
                  password: \(quoted(state.databasePassword))
                replication:
                  username: replicator
                  password: \(quoted(state.databasePassword))
              parameters:
                unix_socket_directories: \(quoted(directory))

            """
    }

    /// etcd's arguments: one member on loopback, data under its directory.
    public static func etcdArguments(_ state: ClusterState) -> [String] {
        let etcd = state.component("etcd")!
        let client = "http://\(etcd.address)"
        let peer = "http://127.0.0.1:\(etcd.controlPort!)"
        return [
            "--name", "steadfast-etcd", "--data-dir", state.dataDirectory("etcd"),
            "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "steadfast-etcd=\(peer)",
        ]
    }

    /// A single-quoted value for postgresql.conf and YAML (quotes doubled).
    static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    static func json(_ object: [String: String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
