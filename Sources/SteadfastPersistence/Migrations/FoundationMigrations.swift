/// Migrations 1–99: accounts, sessions, cluster settings and rate-limit counters.
///
/// Column types come from the dialect (`UUID`/`TEXT`, `TIMESTAMPTZ`/`INTEGER` µs...), so both
/// engines get the same tables with the same constraints.
public enum FoundationMigrations {
    public static let all: [Migration] = [
        Migration(version: 1, name: "accounts, sessions and settings") { d in
            [
                """
                CREATE TABLE accounts (
                    id \(d.uuidType) PRIMARY KEY,
                    email TEXT NOT NULL,
                    email_normalized TEXT NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('client', 'staff')),
                    password_hash TEXT NOT NULL,
                    created_at \(d.timestampType) NOT NULL,
                    updated_at \(d.timestampType) NOT NULL,
                    CONSTRAINT accounts_email_unique UNIQUE (email_normalized)
                )
                """,
                """
                CREATE TABLE sessions (
                    id_hash TEXT PRIMARY KEY,
                    data TEXT NOT NULL,
                    expires_at \(d.timestampType) NOT NULL,
                    created_at \(d.timestampType) NOT NULL,
                    updated_at \(d.timestampType) NOT NULL
                )
                """,
                "CREATE INDEX sessions_expires_at ON sessions (expires_at)",
                """
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL,
                    updated_at \(d.timestampType) NOT NULL
                )
                """,
            ]
        },
        Migration(version: 2, name: "rate-limit counters shared by every node") { d in
            [
                """
                CREATE TABLE rate_limit_counters (
                    bucket TEXT PRIMARY KEY,
                    window_number BIGINT NOT NULL,
                    hits BIGINT NOT NULL,
                    expires_at \(d.timestampType) NOT NULL
                )
                """,
                "CREATE INDEX rate_limit_counters_expires_at ON rate_limit_counters (expires_at)",
            ]
        },
    ]
}
