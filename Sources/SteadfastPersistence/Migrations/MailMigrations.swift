/// Migrations 500–599: e-mail (docs/mail.md).
///
/// - `mail_outbox`: one row per message, written in the same transaction as the event that causes
///   it and rendered then (subject, plain text, HTML), so what is sent is what the event saw.
///   `dedupe_key` (unique when set) lets an event that may run twice enqueue its mail once.
///   Delivery claims a row by moving it to `sending` with a lease and a new `claim_token` (the
///   fencing token: marking it sent or failed is conditional on the token). `message_id` is fixed
///   at the first claim and never changes, so a retry after a crash carries the same Message-ID.
/// - 501 `mail_outbox.attachment`: what delivery attaches at send time (`invoice-pdf:<uuid>`),
///   a request rather than bytes, so the event's transaction renders nothing and any node can
///   make the file when it sends.
/// - `mail_templates`: staff overrides of the default templates (files in SteadfastMail).
public enum MailMigrations {
    public static let all: [Migration] = [
        Migration(version: 500, name: "mail: outbox with claims and fencing, template overrides") { d in
            let uuid = d.uuidType, ts = d.timestampType, big = d.bigintType
            return [
                """
                CREATE TABLE mail_outbox (
                    id \(uuid) PRIMARY KEY,
                    template TEXT NOT NULL,
                    dedupe_key TEXT,
                    to_address TEXT NOT NULL,
                    to_name TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    text_body TEXT NOT NULL,
                    html_body TEXT NOT NULL,
                    message_id TEXT,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at \(ts) NOT NULL,
                    claimed_by TEXT,
                    claim_token \(big) NOT NULL DEFAULT 0,
                    lease_expires_at \(ts),
                    last_error TEXT,
                    created_at \(ts) NOT NULL,
                    sent_at \(ts),
                    failed_at \(ts),
                    CONSTRAINT mail_outbox_dedupe_unique UNIQUE (dedupe_key)
                )
                """,
                "CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state IN ('pending', 'sending')",
                "CREATE INDEX mail_outbox_state ON mail_outbox (state, created_at)",
                """
                CREATE TABLE mail_templates (
                    template_key TEXT PRIMARY KEY,
                    subject TEXT NOT NULL,
                    text_body TEXT NOT NULL,
                    html_body TEXT NOT NULL,
                    updated_at \(ts) NOT NULL,
                    updated_by \(uuid)
                )
                """,
            ]
        },
        Migration(version: 501, name: "mail: attachments made at send time") { _ in
            ["ALTER TABLE mail_outbox ADD COLUMN attachment TEXT"]
        },
    ]
}
