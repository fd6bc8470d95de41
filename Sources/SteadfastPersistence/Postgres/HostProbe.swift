import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SteadfastConcurrency
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

    /// The host's role; never throws (an unreachable host is a role too).
    public static func probe(_ endpoint: PostgresEndpoint, timeout: Duration, logger: Logger) async -> HostRole {
        do {
            return try await withDeadline(timeout) { signal in
                // The socket is opened here, not by PostgresNIO, so that the deadline can close
                // it: neither PostgresNIO's start-up handshake nor its `query` notices task
                // cancellation, and a hung server (accepting, never answering) would otherwise
                // hold the probe for as long as it stays hung. Opening it is bounded by
                // `connectTimeout`. Closing is local and immediate.
                let channel = try await ClientBootstrap(group: PostgresConnection.defaultEventLoopGroup)
                    .connectTimeout(TimeAmount(timeout))
                    .connect(host: endpoint.host, port: endpoint.port).get()
                defer { channel.close(promise: nil) }
                let rows = try await signal.whileRunning(onAbort: { channel.close(promise: nil) }) {
                    let configuration = PostgresConnection.Configuration(
                        establishedChannel: channel,
                        tls: endpoint.requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable,
                        username: endpoint.username, password: endpoint.password, database: endpoint.database
                    )
                    let connection = try await PostgresConnection.connect(on: channel.eventLoop, configuration: configuration, id: 0, logger: logger)
                    // Closed on every path (PostgresNIO requires it before the connection goes).
                    do {
                        let rows = try await PostgresEngine.collect(try await connection.query(PostgresEngine.postgresQuery(statement), logger: logger))
                        try? await connection.close()
                        return rows
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                }
                guard let row = rows.first else { return .unreachable("no answer to the role query") }
                if try row.bool("standby") {
                    return .standby(lagSeconds: Double(try row.int("lag_ms")) / 1000)
                }
                return .primary(timeline: Int(try row.int("timeline")))
            }
        } catch let error as DeadlineExceeded {
            return .unreachable(error.description)
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
