import Foundation
import SteadfastTestSupport
import Testing

/// Live tests of several real nodes sharing one real PostgreSQL.
@Suite(.serialized) struct ClusterLiveTests {
    static let password = "correct horse battery"

    @Test func aSessionWorksOnEveryNodeAndSurvivesAKill() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "cluster")
        let url = server.url(database: database)
        let a = try await SteadfastNode.start(name: "a", database: url)
        let b = try await SteadfastNode.start(name: "b", database: url)
        defer {
            a.process.send(SIGKILL)
            b.process.send(SIGKILL)
        }
        let onA = a.client()
        #expect(try await onA.postJSON("/api/v1/auth/register", ["email": "c@example.com", "password": Self.password, "name": "C"]).status == 201)
        #expect(try await onA.postJSON("/api/v1/auth/login", ["email": "c@example.com", "password": Self.password]).status == 200)
        let onB = onA.pointed(at: b.baseURL)
        let me = try await onB.get("/api/v1/me")
        #expect(me.status == 200 && me.json["email"] as? String == "c@example.com")

        // Only the SHA-256 of the session id is stored.
        let cookie = try #require(onA.cookies["steadfast_session"])
        let stored = try await server.psql("SELECT id_hash FROM sessions WHERE data <> ''", database: database)
        #expect(!stored.isEmpty && !stored.contains(cookie))

        // Reading the session does not write it.
        let before = try await server.psql("SELECT updated_at FROM sessions WHERE data <> ''", database: database)
        for node in [onA, onB, onA, onB, onA] { #expect(try await node.get("/api/v1/me").status == 200) }
        #expect(try await server.psql("SELECT updated_at FROM sessions WHERE data <> ''", database: database) == before)

        await a.process.kill9()
        let restarted = try await SteadfastNode.start(name: "a2", database: url)
        defer { restarted.process.send(SIGKILL) }
        #expect(try await onA.pointed(at: restarted.baseURL).get("/api/v1/me").status == 200)

        // Logging out on one node ends the session everywhere.
        #expect(try await onB.postJSON("/api/v1/auth/logout", [:]).status == 204)
        #expect(try await onA.pointed(at: restarted.baseURL).get("/api/v1/me", headers: ["Cookie": "steadfast_session=\(cookie)"]).status == 401)
    }

    @Test func threeNodesStartingTogetherOnAnEmptyDatabaseMigrateOnce() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "race")
        let url = server.url(database: database)
        let nodes = try await withThrowingTaskGroup(of: SteadfastNode.self) { group in
            for i in 0..<3 { group.addTask { try await SteadfastNode.start(name: "race\(i)", database: url) } }
            var started: [SteadfastNode] = []
            for try await node in group { started.append(node) }
            return started
        }
        defer { for node in nodes { node.process.send(SIGKILL) } }
        for node in nodes {
            #expect(try await node.client().get("/readyz").status == 200)
        }
        let migrations = try await server.psql("SELECT count(*), count(DISTINCT version), count(DISTINCT applied_by) FROM schema_migrations", database: database)
        let parts = migrations.split(separator: "|")
        #expect(parts.count == 3 && parts[0] == parts[1] && parts[2] == "1")
        #expect(try await server.psql("SELECT count(*) FROM accounts WHERE role = 'staff'", database: database) == "1")
        let announcers = nodes.filter { $0.process.stdout.contains("created the first staff account") }
        #expect(announcers.count == 1)
        #expect(try await server.psql("SELECT count(*) FROM settings WHERE key = 'cluster_secret'", database: database) == "1")
    }

    @Test func expiredSessionRowsAreDeletedPeriodically() async throws {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: "cleanup")
        let node = try await SteadfastNode.start(name: "cleanup", database: server.url(database: database), arguments: [
            "--set", "session.idle_timeout=1s", "--set", "session.cleanup_interval=1s",
        ])
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "e@example.com", "password": Self.password, "name": "E"]).status == 201)
        #expect(try await client.postJSON("/api/v1/auth/login", ["email": "e@example.com", "password": Self.password]).status == 200)
        #expect(try await server.psql("SELECT count(*) FROM sessions", database: database) == "1")
        let deleted = await eventually(timeout: .seconds(10)) {
            (try? await server.psql("SELECT count(*) FROM sessions", database: database)) == "0"
        }
        #expect(deleted)
    }

    @Test func aNodeReportsTheDatabaseWhenItIsDown() async throws {
        let own = try await PostgresServer.start()
        defer { own.stop() }
        let database = try await own.createDatabase()
        let node = try await SteadfastNode.start(name: "pgdown", database: own.url(database: database), arguments: ["--set", "database.timeout=1s"])
        defer { node.process.send(SIGKILL) }
        let client = node.client()
        #expect(try await client.get("/readyz").status == 200)
        await own.stopAndWait()
        let reported = await eventually(timeout: .seconds(15)) {
            guard let answer = try? await client.get("/readyz") else { return false }
            return answer.status == 503 && answer.json["failing"] as? [String] == ["database"]
        }
        #expect(reported)
        // The API answers 503, not a hang or a crash.
        let me = try await client.postJSON("/api/v1/auth/login", ["email": "x@example.com", "password": Self.password])
        #expect(me.status == 503)
        #expect(try await client.get("/healthz").status == 200)
    }
}
