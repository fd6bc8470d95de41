import Foundation
import SteadfastTestSupport
import Testing

/// `steadfast mail pipe` as an MTA runs it: the real binary, a message on stdin, the exit status.
@Suite("mail pipe command", .serialized)
struct MailPipeCommandLiveTests {
    @Test func exitStatusTellsTheMTAWhatToDo() async throws {
        let postgres = try await PostgresServer.shared()
        let url = postgres.url(database: try await postgres.createDatabase(prefix: "mailpipe"))
        let node = try await SteadfastNode.start(name: "pipe", database: url, arguments: ["--admin-email", "staff@example.com", "--admin-password", "correct horse battery"])
        defer { node.process.send(SIGKILL) }
        let staff = node.client()
        #expect(try await staff.postJSON("/api/v1/auth/login", ["email": "staff@example.com", "password": "correct horse battery"]).status == 200)
        let department = try await staff.postJSON("/api/v1/admin/support/departments", ["name": "Support", "email": "support@example.com", "public": true])
        #expect(department.status == 201, "\(department.body)")
        let client = node.client()
        #expect(try await client.postJSON("/api/v1/auth/register", ["email": "alice@example.org", "password": "correct horse battery", "name": "Alice"]).status == 201)

        let dataDir = node.workingDirectory.appendingPathComponent("steadfast-data").path
        func pipe(_ fixture: [UInt8], _ extra: [String] = [], database: String? = nil) async throws -> ProcessRunner.Result {
            try await ProcessRunner.run(
                [TestPaths.steadfastBinary, "mail", "pipe", "--database", database ?? url, "--data-dir", dataDir, "--log-level", "warning"] + extra,
                standardInput: Data(fixture), timeout: .seconds(60)
            )
        }

        let opened = try await pipe(try MailFixtures.bytes("plain"), ["--recipient", "support@example.com"])
        #expect(opened.status == 0, "\(opened.standardError)")
        #expect(opened.standardError.contains("opened TKT-"))
        let queue = try await staff.get("/api/v1/admin/tickets")
        #expect((queue.json["items"] as? [[String: Any]])?.contains { $0["subject"] as? String == "My server does not boot" } == true, "\(queue.body)")

        let auto = try await pipe(try MailFixtures.bytes("autoreply"))
        #expect(auto.status == 0 && auto.standardError.contains("dropped"))
        #expect(try await pipe(try MailFixtures.bytes("nodepartment")).status == 67)
        #expect(try await pipe(try MailFixtures.bytes("plain"), ["--max-size", "100"]).status == 65)
        // No database reachable: the MTA should keep the message and try again.
        let port = try FreePort.next()
        let down = try await pipe(try MailFixtures.bytes("plain"), database: "postgres://steadfast:pw@127.0.0.1:\(port)/steadfast")
        #expect(down.status == 75, "\(down.standardError)")
        #expect(!down.standardError.contains(":pw@"), "the password must not be printed")
    }
}
