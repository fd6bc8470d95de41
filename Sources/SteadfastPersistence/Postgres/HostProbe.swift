import Foundation
import Logging
import NIOCore
import PostgresNIO
import SteadfastDomain

/// Asks one PostgreSQL host what it is, over a fresh connection (so a wedged or backed-off pool
/// cannot hide a host that came back): primary or standby, replay lag, timeline.
public enum HostProbe {
    static let statement: SQL = """
        SELECT pg_is_in_recovery() AS standby,
               (CASE WHEN NOT pg_is_in_recovery() THEN 0
                     WHEN pg_last_wal_receive_lsn() IS NULL OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                     ELSE COALESCE(EXTRACT(EPOCH FROM (now() - pg_last_xact_replay_timestamp())), 0) * 1000
                END)::bigint AS lag_ms,
               (CASE WHEN pg_is_in_recovery() THEN 0
                     ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int
                END)::bigint AS timeline
        """

    /// The host's role; never throws (an unreachable host is a role too). `timeout` bounds the
    /// whole probe on `clock` (and the connect on NIO's own timer).
    public static func probe(
        _ endpoint: PostgresEndpoint, timeout: Duration, clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) async -> HostRole {
        do {
            return try await withDatabaseDeadline(timeout, clock: clock) {
                var configuration = PostgresConnection.Configuration(
                    host: endpoint.host, port: endpoint.port, username: endpoint.username, password: endpoint.password,
                    database: endpoint.database, tls: endpoint.requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable
                )
                configuration.options.connectTimeout = TimeAmount(timeout)
                let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                // Closed on every path before returning (closing is local: it does not wait for
                // the server), so a probe never leaves a connection or a clean-up task behind.
                let rows: [SQLRow]
                do {
                    rows = try await PostgresEngine.run(statement, on: connection, logger: logger)
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
                guard let row = rows.first else { return .unreachable("no answer to the role query") }
                if try row.bool("standby") {
                    return .standby(lagSeconds: Double(try row.int("lag_ms")) / 1000)
                }
                return .primary(timeline: Int(try row.int("timeline")))
            }
        } catch let error as DatabaseError {
            return .unreachable(error.message)
        } catch let error as PSQLError {
            return .unreachable(reason(error))
        } catch {
            return .unreachable("\(error)")
        }
    }

    /// Why a connection failed, for operators: the server's own message when it refused (no such
    /// database, authentication failed...; these name no data), else the client's error (such as
    /// the socket's "connection refused").
    static func reason(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            return error.serverInfo?[.sqlState].map { "\(message) [\($0)]" } ?? message
        }
        if let underlying = error.underlying {
            return "\(error.code): \(underlying)"
        }
        return "\(error.code)"
    }
}
