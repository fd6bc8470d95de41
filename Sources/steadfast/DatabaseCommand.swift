import ArgumentParser
import Foundation
import Logging
import SteadfastConfig
import SteadfastPersistence
import SteadfastWeb
import SteadfastDomain

/// `steadfast db ...`: database operations.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Database tools.",
        subcommands: [Status.self]
    )

    /// `steadfast db status`: every configured server's role, lag and timeline, as a table.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each database server's role (primary/standby), replay lag and timeline.",
            discussion: "Exits 0 when a primary is reachable, 1 otherwise."
        )

        @OptionGroup var common: NodeOptions

        func run() async throws {
            let configuration = try common.loadConfiguration()
            let url = try PortalNode.databaseURL(configuration)
            switch url {
            case .sqlite:
                let version = try await OperatorDatabase.with(configuration, label: "steadfast.db", schema: .asIs) { database, _ in
                    try await database.readFirst("SELECT max(version) AS version FROM schema_migrations")?.optionalInt("version")
                }
                print("SQLite database \(OperatorDatabase.display(url)) answers (single node); schema version \(version.map { "\($0)" } ?? "none").")
            case .postgres(let target):
                let logger = Logger(label: "steadfast.db")
                let roles = await OperatorDatabase.probe(target, timeout: .seconds(2), logger: logger)
                let maxLag = configuration.databaseStandbyMaxLag
                let readable = Set(
                    HostSelection.usableStandbys(roles, maxLag: maxLag.totalSeconds)
                        + [HostSelection.primary(roles)].compactMap { $0 }
                )
                let primary = HostSelection.primary(roles)
                print(Self.table(target: target, roles: roles, readable: readable, primary: primary))
                if primary == nil {
                    FileHandle.standardError.write(Data("""
                        steadfast: no primary of \(OperatorDatabase.display(url)) is reachable, so writes would fail (see NOTE above): check that \
                        PostgreSQL runs and one server is primary, or pass the node's database with --database

                        """.utf8))
                    throw ExitCode(1)
                }
                // Reachable: is it a Steadfast database? (Fails plainly if not.)
                var options = OperatorDatabase.Options()
                options.logLevel = .error
                try await OperatorDatabase.with(configuration, label: "steadfast.db", schema: .asIs, options: options) { _, _ in }
            }
        }

        static func table(target: PostgresTarget, roles: [HostRole], readable: Set<Int>, primary: Int?) -> String {
            var rows = [["HOST", "ROLE", "LAG", "TIMELINE", "READS", "WRITES", "NOTE"]]
            for (index, endpoint) in target.endpoints.enumerated() {
                let role = roles[index]
                var lag = "-", timeline = "-", note = ""
                switch role {
                case .primary(let t): timeline = String(t)
                case .standby(let seconds): lag = DurationText.formatMeasured(.seconds(seconds))
                case .unreachable(let message): note = message
                case .unknown: break
                }
                if case .primary = role, index != primary { note = "older timeline: not used (split brain?)" }
                rows.append([
                    "\(endpoint.host):\(endpoint.port)", role.name, lag, timeline,
                    readable.contains(index) ? "yes" : "no", index == primary ? "yes" : "no", note,
                ])
            }
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { column, cell in cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            }.joined(separator: "\n")
        }
    }
}
