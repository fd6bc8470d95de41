import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Two real nodes, `a` and `b`, on one fresh PostgreSQL database, started with the first staff
/// account: for the live tests of what must hold across nodes (granted or revoked on one node,
/// used on the other). `stop()` kills both.
public struct TwoNodeCluster: Sendable {
    public let a: SteadfastNode
    public let b: SteadfastNode
    public let server: PostgresServer
    public let database: String

    /// Starts both nodes (`<prefix>-a`, `<prefix>-b`) on a new database of the shared server.
    public static func start(_ prefix: String, adminEmail: String = "admin@example.com", adminPassword: String) async throws -> TwoNodeCluster {
        let server = try await PostgresServer.shared()
        let database = try await server.createDatabase(prefix: prefix)
        let url = server.url(database: database)
        let arguments = ["--admin-email", adminEmail, "--admin-password", adminPassword]
        let a = try await SteadfastNode.start(name: "\(prefix)-a", database: url, arguments: arguments)
        do {
            let b = try await SteadfastNode.start(name: "\(prefix)-b", database: url, arguments: arguments)
            return TwoNodeCluster(a: a, b: b, server: server, database: database)
        } catch {
            a.process.send(SIGKILL)
            throw error
        }
    }

    public func stop() {
        a.process.send(SIGKILL)
        b.process.send(SIGKILL)
    }

    /// The link token (64 hex digits after `<linkPath>/`) in the `template` mail to `address`,
    /// read from the outbox.
    public func mailedToken(template: String, to address: String, linkPath: String) async throws -> String {
        let body = try await server.psql("SELECT text_body FROM mail_outbox WHERE template = '\(template)' AND to_address = '\(address)'", database: database)
        guard let match = try Regex("\(linkPath)/([0-9a-f]{64})").firstMatch(in: body), let token = match.output[1].substring else {
            throw NoMailedLink(description: "no \(template) mail with a \(linkPath) link to \(address): \(body)")
        }
        return String(token)
    }

    public struct NoMailedLink: Error, CustomStringConvertible {
        public let description: String
    }
}
