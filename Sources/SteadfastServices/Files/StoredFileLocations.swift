import Foundation
import SteadfastPersistence

/// Which targets hold a verified copy of each file (`stored_file_locations`), fetched for a
/// whole page of files with one statement. The caller runs the statement, so it chooses where
/// it may be answered (a standby for a listing, the primary for a migration).
enum StoredFileLocations {
    /// The statement for the files `ids` (at least one), targets in name order.
    static func statement(for ids: [UUID]) -> SQL {
        "SELECT file_id, target FROM stored_file_locations WHERE file_id IN (\(SQL.joined(ids.map { "\($0)" }, separator: ", "))) ORDER BY target"
    }

    /// The statement's rows as each file's targets, in name order.
    static func grouped(_ rows: [SQLRow]) throws -> [UUID: [String]] {
        var locations: [UUID: [String]] = [:]
        for row in rows {
            locations[try row.uuid("file_id"), default: []].append(try row.string("target"))
        }
        return locations
    }
}
