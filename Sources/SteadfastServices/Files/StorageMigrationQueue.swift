import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastStorage

/// Storage migrations queued for the scheduler's `storage-migrations` job
/// (`steadfast storage migrate --background`): one open request per file type, worked on by
/// whichever node runs the job, resumed on the next slot if a node dies or a file fails.
public struct StorageMigrationQueue: Sendable {
    /// One queued migration.
    public struct Request: Sendable, Equatable {
        /// New for every request, so an attempt never updates a request that replaced it.
        public var id: UUID
        public var type: FileType
        public var target: String
        public var requestedBy: String
        public var requestedAt: Date
        public var attempts: Int
        /// What the last attempt did (a summary line or the failures).
        public var outcome: String?
        /// Set once every file was verified on `target` and the type was switched to it.
        public var finishedAt: Date?
    }

    let database: any SQLDatabase
    let clock: any WallClock

    public init(database: any SQLDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    /// Queues moving every file of `type` to `target`, replacing an earlier request for the type
    /// (finished or not: the migration resumes from what is already verified on `target`).
    public func request(type: FileType, to target: String, by requester: String) async throws {
        let now = clock.now()
        _ = try await database.query("""
            INSERT INTO storage_migration_requests (file_type, request_id, target, requested_by, requested_at, attempts)
            VALUES (\(type.rawValue), \(UUID()), \(target), \(requester), \(now), 0)
            ON CONFLICT (file_type) DO UPDATE SET request_id = excluded.request_id, target = excluded.target, requested_by = excluded.requested_by,
                requested_at = excluded.requested_at, attempts = 0, last_attempt_at = NULL, outcome = NULL, finished_at = NULL
            """)
    }

    /// The requests still to be worked on, oldest first.
    public func open() async throws -> [Request] {
        try await database.query("""
            SELECT file_type, request_id, target, requested_by, requested_at, attempts, outcome, finished_at
            FROM storage_migration_requests WHERE finished_at IS NULL ORDER BY requested_at
            """).compactMap(Self.request)
    }

    /// Records an attempt at `request`: its outcome and, when `finished`, that it is done. Only
    /// touches the request it was given (not one that replaced it meanwhile).
    public func record(_ request: Request, outcome: String, finished: Bool) async throws {
        let now = clock.now()
        let finishedAt: Date? = finished ? now : nil
        _ = try await database.query("""
            UPDATE storage_migration_requests
            SET attempts = attempts + 1, last_attempt_at = \(now), outcome = \(outcome), finished_at = \(finishedAt)
            WHERE request_id = \(request.id) AND finished_at IS NULL
            """)
    }

    static func request(_ row: SQLRow) throws -> Request? {
        guard let type = FileType(rawValue: try row.string("file_type")) else { return nil }
        return Request(
            id: try row.uuid("request_id"), type: type, target: try row.string("target"), requestedBy: try row.string("requested_by"),
            requestedAt: try row.date("requested_at"), attempts: Int(try row.int("attempts")),
            outcome: try row.optionalString("outcome"), finishedAt: try row.optionalDate("finished_at")
        )
    }
}
