/// Migrations 400–499: the support desk (docs/support.md).
///
/// - `support_departments`: staff-managed departments; `email_normalized` is unique, so mail
///   sent to an address finds exactly one department.
/// - `tickets`: `number` is unique across the cluster (random six digits, drawn again on a
///   collision; tickets are never deleted, so a number is never reused). `status_changed_at`
///   orders the queue (oldest waiting first) and drives auto-close.
/// - `ticket_messages`: client replies, staff replies and staff-only notes (`kind`).
/// - `ticket_attachments`: one row per uploaded file (its bytes and SHA-256 in `stored_files`,
///   type `ticket_attachments`); `message_id` is NULL until a message references it, and such
///   unreferenced uploads expire.
/// - `canned_replies`: prepared staff answers.
///
/// Migration 401, content (docs/content.md):
/// - `announcements`: Markdown `body`, `audience` (`public` | `clients`), `published` and `published_at`.
/// - `kb_categories`, `kb_articles`: slugs unique (pages are addressed by them); articles have an audience too.
/// - `download_categories`, `downloads`: one row per file of the library (bytes in `stored_files`,
///   type `downloads`), its `visibility` (`public` | `logged_in` | `product`, `product_id` set
///   exactly for `product`) and `download_count`, raised by one `UPDATE ... + 1` per download.
public enum SupportMigrations {
    public static let all: [Migration] = [
        Migration(version: 400, name: "support: departments, tickets, messages, attachments, canned replies") { d in
            let uuid = d.uuidType, ts = d.timestampType, bool = d.boolType, big = d.bigintType
            return [
                """
                CREATE TABLE support_departments (
                    id \(uuid) PRIMARY KEY,
                    name TEXT NOT NULL,
                    email TEXT NOT NULL,
                    email_normalized TEXT NOT NULL,
                    is_public \(bool) NOT NULL,
                    created_at \(ts) NOT NULL,
                    CONSTRAINT support_departments_email_unique UNIQUE (email_normalized)
                )
                """,
                """
                CREATE TABLE tickets (
                    id \(uuid) PRIMARY KEY,
                    number INTEGER NOT NULL,
                    subject TEXT NOT NULL,
                    department_id \(uuid) NOT NULL REFERENCES support_departments (id),
                    priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
                    status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'customer_reply', 'on_hold', 'in_progress', 'closed')),
                    client_id \(uuid) NOT NULL REFERENCES accounts (id),
                    service_id \(uuid) REFERENCES services (id),
                    assignee_id \(uuid) REFERENCES accounts (id),
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL,
                    status_changed_at \(ts) NOT NULL,
                    CONSTRAINT tickets_number_unique UNIQUE (number)
                )
                """,
                "CREATE INDEX tickets_queue ON tickets (status, status_changed_at)",
                "CREATE INDEX tickets_client ON tickets (client_id, updated_at)",
                "CREATE INDEX tickets_department ON tickets (department_id, status_changed_at)",
                "CREATE INDEX tickets_assignee ON tickets (assignee_id, status_changed_at)",
                """
                CREATE TABLE ticket_messages (
                    id \(uuid) PRIMARY KEY,
                    ticket_id \(uuid) NOT NULL REFERENCES tickets (id),
                    kind TEXT NOT NULL CHECK (kind IN ('client', 'staff', 'note')),
                    author_id \(uuid) REFERENCES accounts (id),
                    author_name TEXT NOT NULL,
                    body TEXT NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, created_at)",
                """
                CREATE TABLE ticket_attachments (
                    id \(uuid) PRIMARY KEY,
                    file_id \(uuid) NOT NULL REFERENCES stored_files (id),
                    uploader_id \(uuid) NOT NULL REFERENCES accounts (id),
                    ticket_id \(uuid) REFERENCES tickets (id),
                    message_id \(uuid) REFERENCES ticket_messages (id),
                    filename TEXT NOT NULL,
                    size \(big) NOT NULL CHECK (size >= 0),
                    sha256 TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    CONSTRAINT ticket_attachments_file_unique UNIQUE (file_id)
                )
                """,
                "CREATE INDEX ticket_attachments_message ON ticket_attachments (message_id)",
                "CREATE INDEX ticket_attachments_unreferenced ON ticket_attachments (created_at) WHERE message_id IS NULL",
                """
                CREATE TABLE canned_replies (
                    id \(uuid) PRIMARY KEY,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
            ]
        },
        Migration(version: 401, name: "support content: announcements, knowledge base, downloads") { d in
            let uuid = d.uuidType, ts = d.timestampType, bool = d.boolType, big = d.bigintType
            return [
                """
                CREATE TABLE announcements (
                    id \(uuid) PRIMARY KEY,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    audience TEXT NOT NULL CHECK (audience IN ('public', 'clients')),
                    published \(bool) NOT NULL,
                    published_at \(ts) NOT NULL,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL
                )
                """,
                "CREATE INDEX announcements_published ON announcements (published, published_at)",
                """
                CREATE TABLE kb_categories (
                    id \(uuid) PRIMARY KEY,
                    name TEXT NOT NULL,
                    slug TEXT NOT NULL,
                    description TEXT NOT NULL,
                    created_at \(ts) NOT NULL,
                    CONSTRAINT kb_categories_slug_unique UNIQUE (slug)
                )
                """,
                """
                CREATE TABLE kb_articles (
                    id \(uuid) PRIMARY KEY,
                    category_id \(uuid) NOT NULL REFERENCES kb_categories (id),
                    title TEXT NOT NULL,
                    title_lower TEXT NOT NULL,
                    slug TEXT NOT NULL,
                    body TEXT NOT NULL,
                    audience TEXT NOT NULL CHECK (audience IN ('public', 'clients')),
                    published \(bool) NOT NULL,
                    created_at \(ts) NOT NULL,
                    updated_at \(ts) NOT NULL,
                    CONSTRAINT kb_articles_slug_unique UNIQUE (slug)
                )
                """,
                "CREATE INDEX kb_articles_category ON kb_articles (category_id, title_lower)",
                """
                CREATE TABLE download_categories (
                    id \(uuid) PRIMARY KEY,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    created_at \(ts) NOT NULL
                )
                """,
                """
                CREATE TABLE downloads (
                    id \(uuid) PRIMARY KEY,
                    category_id \(uuid) NOT NULL REFERENCES download_categories (id),
                    file_id \(uuid) NOT NULL REFERENCES stored_files (id),
                    title TEXT NOT NULL,
                    description TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    size \(big) NOT NULL CHECK (size >= 0),
                    sha256 TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'logged_in', 'product')),
                    product_id \(uuid) REFERENCES products (id),
                    download_count \(big) NOT NULL DEFAULT 0 CHECK (download_count >= 0),
                    created_at \(ts) NOT NULL,
                    CONSTRAINT downloads_file_unique UNIQUE (file_id),
                    CONSTRAINT downloads_product_visibility CHECK ((visibility = 'product') = (product_id IS NOT NULL))
                )
                """,
                "CREATE INDEX downloads_category ON downloads (category_id, title)",
            ]
        },
    ]
}
