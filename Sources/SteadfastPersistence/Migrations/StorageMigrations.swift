/// Migrations 100–199: the catalogue of stored files.
///
/// - `stored_files`: one row per file the portal keeps — its type, storage key (relative to the
///   type's prefix), size, SHA-256 and owner. The SHA-256 is the reference every copy is checked
///   against.
/// - `stored_file_locations`: which targets hold a verified copy of a file.
/// - `storage_routes`: the target new files of a type go to, once `storage migrate` switched it
///   (overrides the configuration; every node re-reads it).
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
    ]
}
