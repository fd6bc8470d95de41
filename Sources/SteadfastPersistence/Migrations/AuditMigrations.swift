/// Migration 650 (accounts/staff block, 600–699): the audit trail (docs/accounts.md, "Audit trail").
///
/// `audit_events` is append-only: the application only inserts (``AuditEventRepository``), and
/// the database refuses the rest — on PostgreSQL a trigger raises on `UPDATE`, `DELETE` and
/// `TRUNCATE`, on SQLite triggers raise on `UPDATE` and `DELETE`. No foreign keys: deleting an
/// account or an invoice must never delete (or be blocked by) its history.
///
/// - `actor_kind`: `account`, `api_token`, `job`, `gateway` (651) or `system`; `actor_account_id`
///   is the account behind an account or a token, `actor_token_id` the token, `actor_job` the
///   job's or the gateway's name (`stripe`, `testcard`, `mail`).
/// - `account_id`: the account the event concerns (whose security events a client sees).
/// - `changes`: JSON `{"before": {...}, "after": {...}}` of the fields that changed;
///   `amounts`: JSON `{"name": {"minor_units": 1234, "currency": "EUR"}}`.
public enum AuditMigrations {
    public static let all: [Migration] = [
        Migration(version: 650, name: "audit trail: append-only audit_events") { d in
            let uuid = d.uuidType, ts = d.timestampType
            var statements = [
                """
                CREATE TABLE audit_events (
                    id \(uuid) PRIMARY KEY,
                    occurred_at \(ts) NOT NULL,
                    actor_kind TEXT NOT NULL CHECK (actor_kind IN ('account', 'api_token', 'job', 'system')),
                    actor_account_id \(uuid),
                    actor_token_id \(uuid),
                    actor_job TEXT,
                    action TEXT NOT NULL,
                    object_type TEXT NOT NULL,
                    object_id TEXT,
                    account_id \(uuid),
                    changes TEXT NOT NULL,
                    amounts TEXT NOT NULL,
                    ip TEXT,
                    node_id TEXT NOT NULL,
                    request_id TEXT
                )
                """,
                "CREATE INDEX audit_events_occurred ON audit_events (occurred_at, id)",
                "CREATE INDEX audit_events_actor_account ON audit_events (actor_account_id, occurred_at)",
                "CREATE INDEX audit_events_object ON audit_events (object_type, object_id, occurred_at)",
                "CREATE INDEX audit_events_account ON audit_events (account_id, occurred_at)",
            ]
            switch d {
            case .postgres:
                statements += [
                    """
                    CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
                    END
                    $$
                    """,
                    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
                    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
                ]
            case .sqlite:
                statements += [
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
                    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
                ]
            }
            return statements
        },
        // Changes made on a payment gateway's or the mail pipe's word are recorded as theirs.
        // SQLite cannot change a CHECK: the table is copied into one with the new CHECK (DROP
        // TABLE fires no trigger), then its indexes and append-only triggers are made again.
        Migration(version: 651, name: "audit trail: gateway actors") { d in
            switch d {
            case .postgres:
                return [
                    "ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_kind_check",
                    "ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_kind_check CHECK (actor_kind IN ('account', 'api_token', 'job', 'gateway', 'system'))",
                ]
            case .sqlite:
                return [
                    """
                    CREATE TABLE audit_events_651 (
                        id \(d.uuidType) PRIMARY KEY,
                        occurred_at \(d.timestampType) NOT NULL,
                        actor_kind TEXT NOT NULL CHECK (actor_kind IN ('account', 'api_token', 'job', 'gateway', 'system')),
                        actor_account_id \(d.uuidType),
                        actor_token_id \(d.uuidType),
                        actor_job TEXT,
                        action TEXT NOT NULL,
                        object_type TEXT NOT NULL,
                        object_id TEXT,
                        account_id \(d.uuidType),
                        changes TEXT NOT NULL,
                        amounts TEXT NOT NULL,
                        ip TEXT,
                        node_id TEXT NOT NULL,
                        request_id TEXT
                    )
                    """,
                    "INSERT INTO audit_events_651 SELECT * FROM audit_events",
                    "DROP TABLE audit_events",
                    "ALTER TABLE audit_events_651 RENAME TO audit_events",
                    "CREATE INDEX audit_events_occurred ON audit_events (occurred_at, id)",
                    "CREATE INDEX audit_events_actor_account ON audit_events (actor_account_id, occurred_at)",
                    "CREATE INDEX audit_events_object ON audit_events (object_type, object_id, occurred_at)",
                    "CREATE INDEX audit_events_account ON audit_events (account_id, occurred_at)",
                    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
                    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
                ]
            }
        },
        // The staff audit list sorts by action (#16): without an index that is a sort of the
        // whole append-only table; with it, an index walk in either direction (id breaks ties).
        Migration(version: 652, name: "audit trail: index for sorting by action") { _ in
            ["CREATE INDEX audit_events_action ON audit_events (action, id)"]
        },
    ]
}
