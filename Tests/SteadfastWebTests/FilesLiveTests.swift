import Crypto
import Foundation
import SteadfastTestSupport
import Testing

/// Live tests of the files API and the storage wiring: real nodes, real shared directories, a
/// real S3 server (moto), the real `steadfast storage` commands.
@Suite(.serialized) struct FilesLiveTests {
    static let password = "correct horse battery"

    static func client(_ node: SteadfastNode, email: String) async throws -> HTTPTestClient {
        let client = node.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": email, "password": password, "name": "F"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": email, "password": password]).status == 200)
        return client
    }

    static func upload(_ client: HTTPTestClient, name: String, bytes: [UInt8], type: String = "application/pdf") async throws -> HTTPTestClient.Response {
        try await client.send("POST", "/api/v1/files", headers: [
            "Content-Type": type, "X-Upload-Filename": name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name,
        ], body: bytes)
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    @Test func uploadListDownloadRangeLinkDelete() async throws {
        let node = try await SteadfastNode.start(name: "files", arguments: ["--set", "storage.max_upload_size=256KiB"])
        defer { node.process.send(SIGKILL) }
        let alice = try await Self.client(node, email: "alice@example.com")
        let bytes = Self.randomBytes(100_000)
        let uploaded = try await Self.upload(alice, name: "Invoice März.pdf", bytes: bytes)
        #expect(uploaded.status == 201)
        let id = try #require(uploaded.json["id"] as? String)
        #expect(uploaded.json["sha256"] as? String == Self.sha256(bytes))
        #expect(uploaded.json["filename"] as? String == "Invoice März.pdf")
        #expect(uploaded.json["locations"] as? [String] == ["local"])

        let list = try await alice.get("/api/v1/files")
        #expect((list.json["files"] as? [[String: Any]])?.count == 1)

        let raw = try await alice.send("GET", "/api/v1/files/\(id)/content")
        #expect(raw.status == 200 && raw.bytes == bytes)
        #expect(raw.header("Content-Length") == "100000")
        #expect(raw.header("Content-Disposition")?.contains("filename*=UTF-8''Invoice%20M%C3%A4rz.pdf") == true)
        #expect(raw.header("X-Content-Type-Options") == "nosniff")

        let range = try await alice.get("/api/v1/files/\(id)/content", headers: ["Range": "bytes=10-19"])
        #expect(range.status == 206)
        #expect(range.header("Content-Range") == "bytes 10-19/100000")
        #expect(range.header("Content-Length") == "10" && range.bytes == Array(bytes[10...19]))
        #expect(try await alice.get("/api/v1/files/\(id)/content", headers: ["Range": "bytes=200000-"]).status == 416)

        // A time-limited link works without a session; a tampered one does not.
        let link = try await alice.get("/api/v1/files/\(id)/link")
        let url = try #require(link.json["url"] as? String)
        #expect(url.hasPrefix("/files/local/"))
        let anonymous = node.client()
        let viaLink = try await anonymous.send("GET", url)
        #expect(viaLink.status == 200 && viaLink.bytes == bytes)
        #expect(try await anonymous.send("GET", url.replacingOccurrences(of: "signature=", with: "signature=0")).status == 403)
        #expect(try await anonymous.send("GET", url.replacingOccurrences(of: "expires=", with: "expires=1")).status == 403)

        // Limits and bad input.
        #expect(try await Self.upload(alice, name: "big.bin", bytes: Self.randomBytes(300_000)).status == 413)
        #expect(try await Self.upload(alice, name: "../../etc/passwd", bytes: [1, 2, 3]).status == 400)
        #expect(try await alice.send("POST", "/api/v1/files", headers: ["Content-Type": "text/plain"], body: [1]).status == 415)
        #expect(try await Self.upload(anonymous, name: "x.txt", bytes: [1]).status == 401)

        #expect(try await alice.send("DELETE", "/api/v1/files/\(id)").status == 204)
        #expect(try await alice.get("/api/v1/files/\(id)").status == 404)
        #expect(try await anonymous.send("GET", url).status == 404)
    }

    /// One client cannot fill the shared storage: `storage.client_quota` bounds the bytes of
    /// all their files together; deleting files frees room; other clients are unaffected.
    @Test func aClientsFilesStayWithinTheirQuota() async throws {
        let node = try await SteadfastNode.start(name: "files-quota", arguments: ["--set", "storage.client_quota=150KiB"])
        defer { node.process.send(SIGKILL) }
        let alice = try await Self.client(node, email: "alice@example.com")
        let first = try await Self.upload(alice, name: "a.bin", bytes: Self.randomBytes(100_000))
        #expect(first.status == 201)
        let refused = try await Self.upload(alice, name: "b.bin", bytes: Self.randomBytes(100_000))
        #expect(refused.status == 413)
        #expect((refused.json["error"] as? [String: Any])?["code"] as? String == "quota_exceeded")
        #expect(refused.body.contains("153600 bytes"))
        #expect((try await alice.get("/api/v1/files").json["files"] as? [Any])?.count == 1)
        #expect(try await Self.upload(alice, name: "c.bin", bytes: Self.randomBytes(50_000)).status == 201)

        let bob = try await Self.client(node, email: "bob@example.com")
        #expect(try await Self.upload(bob, name: "b.bin", bytes: Self.randomBytes(100_000)).status == 201)

        let id = try #require(first.json["id"] as? String)
        #expect(try await alice.send("DELETE", "/api/v1/files/\(id)").status == 204)
        #expect(try await Self.upload(alice, name: "b.bin", bytes: Self.randomBytes(100_000)).status == 201)
    }

    /// Object-level authorisation: another client gets 404 on every route, as for a file that
    /// does not exist; staff can reach it.
    @Test func anotherClientCannotReachAFile() async throws {
        let node = try await SteadfastNode.start(name: "files-authz", arguments: ["--admin-email", "staff@example.com", "--admin-password", "staff passphrase 1"])
        defer { node.process.send(SIGKILL) }
        let alice = try await Self.client(node, email: "alice@example.com")
        let mallory = try await Self.client(node, email: "mallory@example.com")
        let uploaded = try await Self.upload(alice, name: "secret.txt", bytes: Array("top secret".utf8), type: "text/plain")
        let id = try #require(uploaded.json["id"] as? String)
        for (method, path) in [("GET", "/api/v1/files/\(id)"), ("GET", "/api/v1/files/\(id)/content"), ("GET", "/api/v1/files/\(id)/link"), ("DELETE", "/api/v1/files/\(id)")] {
            let answer = try await mallory.send(method, path)
            #expect(answer.status == 404, "\(method) \(path) answered \(answer.status) to another client")
            #expect(!answer.body.contains("secret"))
        }
        #expect((try await mallory.get("/api/v1/files").json["files"] as? [Any])?.isEmpty == true)
        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": "staff passphrase 1"]).status == 200)
        #expect(try await staff.get("/api/v1/files/\(id)/content").body == "top secret")
        #expect(try await alice.get("/api/v1/files/\(id)/content").body == "top secret")
    }

    /// A file written through node A is readable through node B at once (shared directory,
    /// shared PostgreSQL catalogue), and survives node A's death.
    @Test func aFileWrittenOnOneNodeIsReadOnAnother() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "files")
        let shared = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-nas")
        let arguments = ["--set", "storage.local_path=\(shared.path)"]
        let a = try await SteadfastNode.start(name: "files-a", database: server.url(database: database), arguments: arguments)
        let b = try await SteadfastNode.start(name: "files-b", database: server.url(database: database), arguments: arguments)
        defer {
            a.process.send(SIGKILL)
            b.process.send(SIGKILL)
        }
        let onA = try await Self.client(a, email: "c@example.com")
        let onB = onA.pointed(at: b.baseURL)
        for round in 0..<5 {
            let bytes = Self.randomBytes(1000 + round * 7919)
            let uploaded = try await Self.upload(onA, name: "f\(round).bin", bytes: bytes, type: "application/octet-stream")
            let id = try #require(uploaded.json["id"] as? String)
            let read = try await onB.get("/api/v1/files/\(id)")
            #expect(read.status == 200 && read.json["sha256"] as? String == Self.sha256(bytes))
            let content = try await onB.send("GET", "/api/v1/files/\(id)/content")
            #expect(content.bytes == bytes)
        }
        await a.process.kill9()
        #expect((try await onB.get("/api/v1/files").json["files"] as? [Any])?.count == 5)
        // Pages of two, newest first, cover every file once.
        var paged: [String] = []
        for offset in [0, 2, 4] {
            let page = try await onB.get("/api/v1/files?limit=2&offset=\(offset)")
            #expect(page.json["limit"] as? Int == 2 && page.json["offset"] as? Int == offset)
            paged += (page.json["files"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        let all = (try await onB.get("/api/v1/files").json["files"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(paged == all && Set(paged).count == 5)
    }

    /// A shared S3 store going away is a files outage, not a portal outage: the node stays ready
    /// (`storage` degraded, so a balancer keeps every node in rotation), uploads answer 503 at
    /// once with nothing stored, and other pages work. (A local directory missing on one node
    /// still takes that node out: NodeLiveTests.readinessNamesTheFailingCheck.)
    @Test func anS3OutageDegradesReadinessAndOnlyFilesAnswer503() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        #expect(try await HTTPTestClient(baseURL: moto.endpoint.absoluteString).send("PUT", "/steadfast-files").status == 200)
        let targets = #"[{"name": "s3", "kind": "s3", "bucket": "steadfast-files", "endpoint": "\#(moto.endpoint.absoluteString)", "access_key_id": "test", "secret_access_key": "test"}]"#
        let node = try await SteadfastNode.start(name: "s3-outage", arguments: [
            "--set", "storage.targets=\(targets)", "--set", "storage.default_target=s3",
        ])
        defer { node.process.send(SIGKILL) }
        let client = try await Self.client(node, email: "outage@example.com")
        #expect(try await Self.upload(client, name: "before.bin", bytes: [1, 2, 3]).status == 201)

        moto.stop()
        let ready = try await client.get("/readyz")
        #expect(ready.status == 200)
        #expect(ready.json["degraded"] as? [String] == ["storage"])
        let started = ContinuousClock.now
        let refused = try await Self.upload(client, name: "during.bin", bytes: [4, 5, 6])
        #expect(refused.status == 503)
        #expect(ContinuousClock.now - started < .seconds(10), "a refused connection is answered at once, not after a timeout")
        #expect(try await client.get("/api/v1/me").status == 200)
        let listed = try await client.get("/api/v1/files")
        #expect(listed.status == 200)
        #expect(listed.body.contains("before.bin") && !listed.body.contains("during.bin"))
    }

    /// `storage check` and `storage migrate` against a real S3 server: local → S3 → local, with
    /// running nodes following each switch without a restart and files staying byte-identical.
    @Test func migrateLocalToS3AndBackWhileNodesRun() async throws {
        let moto = try await MotoServer.start()
        defer { moto.stop() }
        #expect(try await HTTPTestClient(baseURL: moto.endpoint.absoluteString).send("PUT", "/steadfast-files").status == 200)
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "migrate")
        let shared = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-nas")
        let targets = #"[{"name": "s3", "kind": "s3", "bucket": "steadfast-files", "endpoint": "\#(moto.endpoint.absoluteString)", "access_key_id": "test", "secret_access_key": "test"}]"#
        let configuration = [
            "--database", server.url(database: database),
            "--set", "storage.local_path=\(shared.path)", "--set", "storage.targets=\(targets)",
            "--set", "storage.route_refresh_interval=500ms",
        ]
        let node = try await SteadfastNode.start(name: "migrate", arguments: configuration)
        defer { node.process.send(SIGKILL) }
        let client = try await Self.client(node, email: "m@example.com")
        var originals: [String: [UInt8]] = [:]
        for index in 0..<4 {
            let bytes = Self.randomBytes(50_000 + index)
            let id = try #require(try await Self.upload(client, name: "file\(index).bin", bytes: bytes).json["id"] as? String)
            originals[id] = bytes
        }

        let check = try await Self.run(["storage", "check"] + configuration)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("local") && check.output.contains("s3"))

        let toS3 = try await Self.run(["storage", "migrate", "--type", "client_files", "--to", "s3"] + configuration)
        #expect(toS3.status == 0, "\(toS3.output)")
        #expect(toS3.output.contains("4 files, 4 copied"))
        #expect(toS3.output.contains("switched"))
        // The running node follows the switch: a new upload lands on S3.
        let probesOnLocal = LockedBox(0)
        let followed = await eventually(timeout: .seconds(15)) {
            let probe = try? await Self.upload(client, name: "probe.bin", bytes: [1, 2, 3])
            let onS3 = (probe?.json["locations"] as? [String]) == ["s3"]
            if !onS3 { probesOnLocal.with { $0 += 1 } }
            return onS3
        }
        #expect(followed)
        // Re-running copies only what arrived on the old target meanwhile, never a file twice.
        let again = try await Self.run(["storage", "migrate", "--type", "client_files", "--to", "s3"] + configuration)
        #expect(again.status == 0, "\(again.output)")
        #expect(again.output.contains("\(probesOnLocal.value) copied"), "\(again.output)")
        #expect(again.output.contains("5 already there"), "\(again.output)")  // the 4 originals and the probe that landed on S3

        let back = try await Self.run(["storage", "migrate", "--type", "client_files", "--to", "local"] + configuration)
        #expect(back.status == 0, "\(back.output)")
        for (id, bytes) in originals {
            let file = try await client.get("/api/v1/files/\(id)")
            #expect(Set(file.json["locations"] as? [String] ?? []) == ["local", "s3"])
            let content = try await client.send("GET", "/api/v1/files/\(id)/content")
            #expect(content.bytes == bytes)
        }
        // Byte-identical on disk after the round trip.
        for (id, bytes) in originals {
            let path = try FileManager.default.subpathsOfDirectory(atPath: shared.path).first { $0.hasSuffix(id) }
            let data = try #require(path.flatMap { FileManager.default.contents(atPath: shared.appendingPathComponent($0).path) })
            #expect(Array(data) == bytes)
        }

        // A broken target makes `storage check` fail with a clear message.
        let broken = #"[{"name": "s3", "kind": "s3", "bucket": "no-such-bucket", "endpoint": "\#(moto.endpoint.absoluteString)", "access_key_id": "test", "secret_access_key": "test"}]"#
        var brokenConfiguration = configuration
        brokenConfiguration[brokenConfiguration.firstIndex(of: "storage.targets=\(targets)")!] = "storage.targets=\(broken)"
        let failing = try await Self.run(["storage", "check"] + brokenConfiguration)
        #expect(failing.status == 1)
        #expect(failing.output.lowercased().contains("bucket"), "\(failing.output)")
    }

    /// Runs the real `steadfast` binary to completion; returns its exit status and output.
    /// `storage migrate --background`: the migration is queued for the scheduler and exactly one
    /// of two running nodes does it; both follow the switch; files stay readable everywhere.
    @Test func aBackgroundMigrationIsDoneByTheClusterScheduler() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "bgmigrate")
        let shared = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-nas")
        let archive = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-archive")
        let targets = #"[{"name": "archive", "kind": "local", "path": "\#(archive.path)"}]"#
        let configuration = [
            "--database", server.url(database: database),
            "--set", "storage.local_path=\(shared.path)", "--set", "storage.targets=\(targets)",
            "--set", "storage.route_refresh_interval=500ms", "--set", "jobs.poll_interval=200ms",
        ]
        let a = try await SteadfastNode.start(name: "bg-a", arguments: configuration)
        defer { a.process.send(SIGKILL) }
        let b = try await SteadfastNode.start(name: "bg-b", arguments: configuration)
        defer { b.process.send(SIGKILL) }
        let client = try await Self.client(a, email: "bg@example.com")
        var originals: [String: [UInt8]] = [:]
        for index in 0..<3 {
            let bytes = Self.randomBytes(30_000 + index)
            let id = try #require(try await Self.upload(client, name: "f\(index).bin", bytes: bytes).json["id"] as? String)
            originals[id] = bytes
        }

        let unknown = try await Self.run(["storage", "migrate", "--type", "client_files", "--to", "nowhere", "--background"] + configuration)
        #expect(unknown.status != 0 && unknown.output.contains("--to"), "\(unknown.output)")

        let queued = try await Self.run(["storage", "migrate", "--type", "client_files", "--to", "archive", "--background"] + configuration)
        #expect(queued.status == 0, "\(queued.output)")
        #expect(queued.output.contains("queued: client_files → archive"), "\(queued.output)")
        // A node runs the job; both nodes then send new files to the archive.
        let onB = client.pointed(at: b.baseURL)
        #expect(await eventually(timeout: .seconds(30)) {
            let probe = try? await Self.upload(onB, name: "probe.bin", bytes: [7, 7, 7])
            return (probe?.json["locations"] as? [String]) == ["archive"]
        }, "node b follows the switch")
        #expect(await eventually(timeout: .seconds(10)) {
            let probe = try? await Self.upload(client, name: "probe-a.bin", bytes: [8])
            return (probe?.json["locations"] as? [String]) == ["archive"]
        }, "node a follows the switch")
        for (id, bytes) in originals {
            let file = try await onB.get("/api/v1/files/\(id)")
            #expect(Set(file.json["locations"] as? [String] ?? []) == ["local", "archive"])
            #expect(try await onB.send("GET", "/api/v1/files/\(id)/content").bytes == bytes)
        }
        // The switch comes first; the job then copies what the nodes uploaded to the old target
        // until they followed it, and only then finishes.
        #expect(await eventually(timeout: .seconds(30)) {
            (try? await server.psql("SELECT finished_at IS NOT NULL FROM storage_migration_requests", database: database))?.hasPrefix("t") == true
        }, "the request is finished")
        let files = try #require(try await onB.get("/api/v1/files?limit=200").json["files"] as? [[String: Any]])
        #expect(files.count > 3 && files.allSatisfy { ($0["locations"] as? [String] ?? []).contains("archive") }, "\(files)")
        // One manual run, by one node, recorded as succeeded with the migration's outcome.
        let history = try await Self.run(["jobs", "history", "storage-migrations"] + configuration)
        #expect(history.status == 0, "\(history.output)")
        let manualRuns = history.output.split(separator: "\n").filter { $0.contains("manual") }
        #expect(manualRuns.count == 1 && manualRuns[0].contains("succeeded"), "\(history.output)")
        let rows = try await server.psql("SELECT attempts, finished_at IS NOT NULL, outcome FROM storage_migration_requests", database: database)
        #expect(rows.hasPrefix("1|t|") && rows.contains("0 failed") && rows.contains("; switched"), "\(rows)")
    }

    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-cli")
        let process = try ManagedProcess(name: "cli", executable: TestPaths.steadfastBinary, arguments: arguments, workingDirectory: directory, logDirectory: directory)
        let status = try await process.waitForExit(timeout: .seconds(120))
        return (status, process.stdout + process.stderr)
    }
}
