import Foundation
import Logging
import SteadfastConfig
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// What a node does once, before it serves: migrate the schema, agree on the cluster secret,
/// make sure a staff account exists. Every step is safe when several nodes start at once.
struct NodeSetup: Sendable {
    /// What setup produced.
    struct Outcome: Sendable {
        let secret: String
        let firstStaff: AccountService.FirstStaffOutcome
    }

    let configuration: NodeConfiguration
    let database: any SQLDatabase
    let accounts: AccountService
    let clock: any WallClock
    let logger: Logger

    func run() async throws -> Outcome {
        try await Migrator(nodeID: configuration.nodeID, clock: clock).migrate(database, logger: logger)
        let secret: String
        if let configured = configuration.secret {
            secret = configured
        } else {
            secret = try await SettingsRepository(database: database).valueSettingIfAbsent(
                "cluster_secret", candidate: Self.randomSecret(), now: clock.now()
            )
        }
        let firstStaff = try await accounts.ensureFirstStaffAccount(email: configuration.adminEmail, password: configuration.adminPassword)
        return Outcome(secret: secret, firstStaff: firstStaff)
    }

    /// Retries ``run()`` while the database is unreachable (a node may start before its
    /// database); configuration and schema errors are not retried.
    func runRetrying() async throws -> Outcome {
        var delay = Duration.milliseconds(250)
        while true {
            do {
                return try await run()
            } catch let error as DatabaseError where [.connectionFailure, .timeout, .readOnly].contains(error.kind) {
                logger.warning("database not ready for start-up; retrying", metadata: ["error": "\(error)", "retry_in": "\(DurationText.format(delay))"])
                try await clock.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }

    /// 48 random bytes, base64url: a cluster secret for CSRF tokens and signed links.
    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64URLEncoded()
    }
}
