import SteadfastDomain

/// Migrations 600–699: account self-service and two-factor log-in (docs/accounts.md).
///
/// - `accounts` gains the profile (company, phone, contact address), `email_verified_at` and
///   `two_factor_enabled_at` (read with the account on every request, so gates cost no query).
/// - `sessions` gains its owner (`account_id`) and a `public_id` that the session list shows and
///   `DELETE /api/v1/me/sessions/{id}` takes: the key's hash never leaves the database.
/// - `account_tokens`: password-reset and e-mail verification tokens, stored as SHA-256 only,
///   single use (`used_at`), with an expiry. A verification token carries the address it verifies.
/// - `account_totp`: the TOTP secret, confirmed or not, and the last time step accepted — the
///   replay guard every node shares (a code is accepted only by raising it).
/// - `account_recovery_codes`: SHA-256 of each recovery code, single use.
/// - 620: `staff_roles` (named permission sets, one built in), `staff_role_members`,
///   `accounts.disabled_at`, and `api_tokens.scopes`/`expires_at`.
/// - 670: `client_users`: a client's users (sub-users), each an account of its own that acts
///   for the client `client_id` with the client permissions in `permissions`.
/// - 680: `password_reset_requests`: reset requests as typed, queued for the mail-delivery job.
public enum AccountMigrations {
    public static let all: [Migration] = [
        Migration(version: 600, name: "accounts: profile, verification, session owners, reset tokens, TOTP") { d in
            let uuid = d.uuidType, ts = d.timestampType, big = d.bigintType
            return [
                "ALTER TABLE accounts ADD COLUMN company TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE accounts ADD COLUMN phone TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE accounts ADD COLUMN address TEXT NOT NULL DEFAULT ''",
                "ALTER TABLE accounts ADD COLUMN email_verified_at \(ts)",
                "ALTER TABLE accounts ADD COLUMN two_factor_enabled_at \(ts)",
                "ALTER TABLE sessions ADD COLUMN account_id \(uuid)",
                "ALTER TABLE sessions ADD COLUMN public_id \(uuid)",
                "CREATE INDEX sessions_account_id ON sessions (account_id)",
                "CREATE UNIQUE INDEX sessions_public_id ON sessions (public_id)",
                """
                CREATE TABLE account_tokens (
                    token_hash TEXT PRIMARY KEY,
                    account_id \(uuid) NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
                    email TEXT,
                    expires_at \(ts) NOT NULL,
                    used_at \(ts),
                    created_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX account_tokens_account ON account_tokens (account_id, purpose)",
                "CREATE INDEX account_tokens_expires_at ON account_tokens (expires_at)",
                """
                CREATE TABLE account_totp (
                    account_id \(uuid) PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
                    secret TEXT NOT NULL,
                    confirmed_at \(ts),
                    last_used_step \(big),
                    created_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE account_recovery_codes (
                    account_id \(uuid) NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                    code_hash TEXT NOT NULL,
                    used_at \(ts),
                    created_at \(ts) NOT NULL,
                    PRIMARY KEY (account_id, code_hash)
                )
                """,
            ]
        },
        // Staff roles and permissions (docs/accounts.md, "Staff permissions"). The built-in
        // "Full access" role holds every permission (in code, so permissions added later reach
        // it too); every staff account that exists when this runs gets it, so admins keep working.
        Migration(version: 620, name: "staff roles, disabled accounts, API token scopes and expiry") { d in
            let uuid = d.uuidType, ts = d.timestampType, bool = d.boolType
            let now = d == .postgres ? "now()" : "CAST(strftime('%s', 'now') AS INTEGER) * 1000000"
            let fullAccess = "'\(StaffRole.fullAccessID.uuidString.lowercased())'"
            return [
                "ALTER TABLE accounts ADD COLUMN disabled_at \(ts)",
                """
                CREATE TABLE staff_roles (
                    id \(uuid) PRIMARY KEY,
                    name TEXT NOT NULL,
                    name_normalized TEXT NOT NULL UNIQUE,
                    permissions TEXT NOT NULL,
                    built_in \(bool) NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE staff_role_members (
                    account_id \(uuid) NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                    role_id \(uuid) NOT NULL REFERENCES staff_roles (id) ON DELETE CASCADE,
                    PRIMARY KEY (account_id, role_id)
                )
                """,
                "CREATE INDEX staff_role_members_role ON staff_role_members (role_id)",
                "INSERT INTO staff_roles (id, name, name_normalized, permissions, built_in, created_at) VALUES (\(fullAccess), 'Full access', 'full access', '', \(d == .postgres ? "TRUE" : "1"), \(now))",
                "INSERT INTO staff_role_members (account_id, role_id) SELECT id, \(fullAccess) FROM accounts WHERE role = 'staff'",
                // NULL scopes: a token made before scopes existed acts with its owner's permissions.
                "ALTER TABLE api_tokens ADD COLUMN scopes TEXT",
                "ALTER TABLE api_tokens ADD COLUMN expires_at \(ts)",
            ]
        },
        // A client's users (docs/accounts.md, "Client users"): an account (role client, its own
        // password, sessions and 2FA) acting for the client `client_id`. `accepted_at`: when the
        // invitation was taken; `removed_at`: removed by the owner (the account is disabled too).
        Migration(version: 670, name: "client users (sub-users) and their permissions") { d in
            let uuid = d.uuidType, ts = d.timestampType
            return [
                """
                CREATE TABLE client_users (
                    account_id \(uuid) PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
                    client_id \(uuid) NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                    permissions TEXT NOT NULL,
                    invited_by \(uuid),
                    accepted_at \(ts),
                    removed_at \(ts),
                    created_at \(ts) NOT NULL,
                    CHECK (account_id <> client_id)
                )
                """,
                "CREATE INDEX client_users_client ON client_users (client_id, created_at)",
            ]
        },
        // Password-reset requests as typed, queued by the request and turned into a link (or
        // nothing, for an address with no account) by the mail-delivery job: the request does
        // the same single insert whatever the address, so neither its answer nor its timing
        // tells whether the address has an account. `ip`, `node_id` and `request_id` are the
        // request's, for the audit event the job writes.
        Migration(version: 680, name: "password-reset requests queued for the mail-delivery job") { d in
            let uuid = d.uuidType, ts = d.timestampType
            return [
                """
                CREATE TABLE password_reset_requests (
                    id \(uuid) PRIMARY KEY,
                    email TEXT NOT NULL,
                    ip TEXT,
                    node_id TEXT NOT NULL,
                    request_id TEXT,
                    requested_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX password_reset_requests_requested_at ON password_reset_requests (requested_at)",
            ]
        },
    ]
}
