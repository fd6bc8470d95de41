import Foundation
@testable import SteadfastPersistence
import SteadfastTestSupport
import Synchronization
import Testing

/// The SQLite engine's reader connections (`SQLiteReaderPool`: an `AsyncSemaphore` of
/// `capacity` permits and a stack of idle connections): never more connections than the
/// capacity, each used by one caller at a time and reused; closed ones are not handed out again.
@Suite(.timeLimit(.minutes(1))) struct SQLiteReaderPoolTests {
    /// A database file with one row, and a pool of `capacity` readers on it.
    static func withPool(capacity: Int, _ body: (SQLiteReaderPool) async throws -> Void) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-readers-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let writer = try SQLiteConnectionHandle(path: path, reprepares: SQLiteCounter())
        _ = try writer.run("PRAGMA journal_mode=WAL", [])
        _ = try writer.run("CREATE TABLE t (v INTEGER)", [])
        _ = try writer.run("INSERT INTO t (v) VALUES (1)", [])
        defer { writer.close() }
        let pool = SQLiteReaderPool(path: path, capacity: capacity, reprepares: SQLiteCounter())
        defer { pool.close() }
        try await body(pool)
    }

    /// 100 concurrent reads on a pool of 3: each connection is used by one read at a time, at
    /// most 3 are ever opened, and every read gets its answer.
    @Test func concurrentReadsShareAtMostCapacityConnectionsOneAtATime() async throws {
        try await Self.withPool(capacity: 3) { pool in
            let seen = LockedBox((connections: Set<ObjectIdentifier>(), busy: Set<ObjectIdentifier>(), overlaps: 0))
            try await withThrowingTaskGroup(of: Int64?.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        await Task.yield()
                        return try await pool.withConnection { connection throws(DatabaseError) -> Int64? in
                            let id = ObjectIdentifier(connection)
                            seen.with { state in
                                state.connections.insert(id)
                                if !state.busy.insert(id).inserted { state.overlaps += 1 }
                            }
                            defer { seen.with { _ = $0.busy.remove(id) } }
                            return try connection.run("SELECT v FROM t", [])[0].int("v")
                        }
                    }
                }
                for try await value in group { #expect(value == 1) }
            }
            let final = seen.value
            #expect(final.overlaps == 0)
            #expect((1...3).contains(final.connections.count))
        }
    }

    /// A free connection is handed out even to a cancelled task (cancellation ends waits only),
    /// and after `close()` a returned connection is closed, not kept: the next read opens anew.
    @Test func aFreeConnectionIsNotRefusedAndClosedOnesAreNotReused() async throws {
        try await Self.withPool(capacity: 1) { pool in
            let first = try await pool.withConnection { ObjectIdentifier($0) }
            let cancelled = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await pool.withConnection { ObjectIdentifier($0) }
            }
            #expect(try await cancelled.value == first)
            pool.close()
            let afterClose = try await pool.withConnection { connection throws(DatabaseError) -> Int64? in
                try connection.run("SELECT v FROM t", [])[0].int("v")
            }
            #expect(afterClose == 1)
        }
    }
}
