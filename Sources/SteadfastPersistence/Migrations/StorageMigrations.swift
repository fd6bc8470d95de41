/// Migrations 100–199: the catalogue of stored files.
///
/// - `stored_files`: one row per file the portal keeps — its type, storage key (relative to the
///   type's prefix), size, SHA-256 and owner. The SHA-256 is the reference every copy is checked
///   against.
/// - `stored_file_locations`: which targets hold a verified copy of a file.
/// - `storage_routes`: the target new files of a type go to, once `storage migrate` switched it
///   (overrides the configuration; every node re-reads it).
/// - `storage_migration_requests` (101): migrations queued for the scheduler's
///   `storage-migrations` job (`storage migrate --background`), one per file type.
public enum StorageMigrations {
    public static let all: [Migration] = [
        Migration(version: 100, name: "stored files, their locations and per-type routes") { d in
            [
                """
                CREATE TABLE stored_files (
                    id \(d.uuidType) PRIMARY KEY,
                    file_type TEXT NOT NULL,
                    storage_key TEXT NOT NULL,
                    size \(d.bigintType) NOT NULL CHECK (size >= 0),
                    sha256 TEXT NOT NULL,
                    content_type TEXT NOT NULL,
                    filename TEXT NOT NULL,
                    owner_id \(d.uuidType) REFERENCES accounts (id),
                    created_at \(d.timestampType) NOT NULL,
                    CONSTRAINT stored_files_key_unique UNIQUE (file_type, storage_key)
                )
                """,
                "CREATE INDEX stored_files_owner ON stored_files (owner_id, created_at)",
                """
                CREATE TABLE stored_file_locations (
                    file_id \(d.uuidType) NOT NULL REFERENCES stored_files (id) ON DELETE CASCADE,
                    target TEXT NOT NULL,
                    verified_at \(d.timestampType) NOT NULL,
                    PRIMARY KEY (file_id, target)
                )
                """,
                """
                CREATE TABLE storage_routes (
                    file_type TEXT PRIMARY KEY,
                    target TEXT NOT NULL,
                    updated_at \(d.timestampType) NOT NULL
                )
                """,
            ]
        },
        Migration(version: 101, name: "storage migrations queued for the scheduler") { d in
            [
                """
                CREATE TABLE storage_migration_requests (
                    file_type TEXT PRIMARY KEY,
                    request_id \(d.uuidType) NOT NULL,
                    target TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    requested_at \(d.timestampType) NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_attempt_at \(d.timestampType),
                    outcome TEXT,
                    finished_at \(d.timestampType)
                )
                """,
            ]
        },
    ]
}
