import Foundation

/// Cluster-wide settings kept in the database, so every node sees the same value.
public struct SettingsRepository: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    public func value(for key: String) async throws -> String? {
        try await database.first("SELECT value FROM settings WHERE key = \(key)").map { try $0.string("value") }
    }

    /// Stores `candidate` unless the key already has a value; returns the value that won.
    /// Nodes racing on first start therefore all end up with the same value.
    public func valueSettingIfAbsent(_ key: String, candidate: String, now: Date) async throws -> String {
        try await database.query("""
            INSERT INTO settings (key, value, updated_at) VALUES (\(key), \(candidate), \(now))
            ON CONFLICT (key) DO NOTHING
            """)
        guard let value = try await value(for: key) else {
            throw DatabaseError(.other, message: "setting '\(key)' vanished right after it was written")
        }
        return value
    }
}
