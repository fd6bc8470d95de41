import Foundation
import SteadfastPersistence
@testable import SteadfastJobs
import Testing
import SteadfastTestSupport

/// The staff jobs list (`JobStore.jobs(now:state:sort:limit:offset:)`): every column of its
/// allow-list, both ways, pages without overlap or gap (equal keys broken by the name), jobs that
/// never ran last either way, and the outcome filter judged by each job's latest run — on both engines.
@Suite struct JobListTests {
    @Test func theAllowListIsWellFormed() {
        let columns = JobStore.sortColumns
        #expect(Set(columns.keys).count == columns.keys.count && columns.column(columns.defaultSort.field) != nil)
        #expect(columns.orderBy(nil).description == "j.name ASC, j.name ASC")
        #expect(columns.orderBy(ListSort("duration", .desc)).description.hasPrefix("CASE WHEN r.duration_ms IS NULL THEN 1 ELSE 0 END, r.duration_ms DESC"))
    }

    @Test(arguments: EngineKind.allCases)
    func sortedFilteredPagesAreStableAndComplete(_ kind: EngineKind) async throws {
        try await withDatabases(kind, connections: 1) { databases in
            let db = databases[0]
            let store = JobStore(database: db)
            let now = offSlot
            let names = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"]
            try await store.publish(names.map { JobDefinition($0, schedule: .every(.seconds(60))) { _ in } }, node: "n1", now: now)
            // (job, state, duration ms, seconds before now): alpha and bravo share a slot and a
            // duration; echo failed once and then succeeded (its latest run counts); delta and golf never ran.
            let runs: [(String, String, Int64?, Double)] = [
                ("alpha", "succeeded", 100, 60), ("bravo", "failed", 100, 60), ("charlie", "running", nil, 10),
                ("echo", "failed", 900, 600), ("echo", "succeeded", 50, 30), ("foxtrot", "timed_out", 300, 60),
            ]
            for (index, (job, state, duration, ago)) in runs.enumerated() {
                let slot = now.addingTimeInterval(-ago)
                let finished: Date? = state == "running" ? nil : slot.addingTimeInterval(1)
                let error: String? = state == "succeeded" || state == "running" ? nil : "went wrong"
                try await db.query("""
                    INSERT INTO job_runs (job, slot_key, slot_at, kind, state, holder, fencing_token, created_at, started_at, finished_at, duration_ms, error)
                    VALUES (\(job), \("slot-\(index)"), \(slot), 'scheduled', \(state), 'n1', 1, \(slot), \(slot), \(finished), \(duration), \(error))
                    """)
            }
            func page(_ state: JobStore.ListState?, _ sort: ListSort?, limit: Int = 100, offset: Int = 0) async throws -> [String] {
                try await store.jobs(now: now, state: state, sort: sort, limit: limit, offset: offset).map(\.name)
            }
            for column in JobStore.sortColumns.keys {
                for direction in SortDirection.allCases {
                    let sort = ListSort(column, direction)
                    let seen = try await pageByPage(limit: 2) { try await page(nil, sort, limit: $0, offset: $1) }
                    #expect(seen.count == names.count && Set(seen) == Set(names), "\(sort)")
                    #expect(try await page(nil, sort) == seen, "\(sort)")
                }
            }
            #expect(try await page(nil, nil) == names)
            #expect(try await page(nil, ListSort("name", .desc)) == names.reversed())
            // Failing first (name breaks the tie), then running, then succeeded; never-run last both ways.
            #expect(try await page(nil, ListSort("outcome", .asc)) == ["bravo", "foxtrot", "charlie", "alpha", "echo", "delta", "golf"])
            #expect(try await page(nil, ListSort("outcome", .desc)) == ["echo", "alpha", "charlie", "foxtrot", "bravo", "golf", "delta"])
            #expect(try await page(nil, ListSort("duration", .desc)) == ["foxtrot", "bravo", "alpha", "echo", "golf", "delta", "charlie"])
            #expect(try await page(nil, ListSort("last_run", .desc)) == ["charlie", "echo", "foxtrot", "bravo", "alpha", "golf", "delta"])
            #expect(try await page(nil, ListSort("last_run", .asc)) == ["alpha", "bravo", "foxtrot", "echo", "charlie", "delta", "golf"])
            // The filter keeps what its name says, judged by the latest run (echo's old failure does not count).
            #expect(try await page(.failing, nil) == ["bravo", "foxtrot"])
            #expect(try await page(.running, nil) == ["charlie"])
            #expect(try await page(.ok, nil) == ["alpha", "echo"])
            #expect(try await page(.never, ListSort("name", .desc)) == ["golf", "delta"])
            #expect(try await page(.failing, ListSort("duration", .desc), limit: 1, offset: 1) == ["bravo"])
            // The summaries are the ones the unpaged list gives.
            let all = try await store.jobs(now: now)
            #expect(try await store.jobs(now: now, state: nil, sort: nil, limit: 100, offset: 0) == all)
            #expect(all.first { $0.name == "echo" }?.lastRun?.state == "succeeded")
        }
    }
}
