import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence

/// The staff scheduler pages (`jobs.run`): `/admin/jobs` (the jobs, sortable, filtered by outcome
/// and paged: schedule, last run and its node, duration and outcome, next run, a CSRF-protected
/// "Run now" button) and `/admin/jobs/{name}` (the job's history).
struct JobsPagesController: Sendable {
    let store: JobStore
    let pages: PageRenderer
    let clock: any WallClock
    let nodeID: String

    func addRoutes(to router: RouterGroup<PortalRequestContext>) {
        let jobs = router.group("admin/jobs").add(middleware: RequirePermission(.jobsRun))
        jobs.get(use: list)
        jobs.get(":name", use: detail)
        jobs.post(":name/run", use: run)
    }

    /// `/admin/jobs?state=failing|running|ok|never&sort=&dir=&offset=`: sortable by name, last
    /// run, duration and outcome (`JobStore.sortColumns`), filtered by the latest run's outcome.
    @Sendable func list(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let state = try ListChoice<JobStore.ListState>(request, "state")
        let table = try SortableTable(request, columns: JobStore.sortColumns, path: "/admin/jobs", filters: ["state": state.text])
        let now = clock.now()
        let list = try await table.fetch { try await store.jobs(now: now, state: state.selected, sort: $0, limit: $1, offset: $2) }
        var values = table.values("jobs", list, rows: list.rows.map(JobsView.row), empty: EmptyState.values(JobsView.empty(state.selected)), headings: [
            table.column("Job", key: "name"), table.column("Schedule"), table.column("Missed runs"), table.column("Last run", key: "last_run"),
            table.column("Node"), table.column("Duration", key: "duration"), table.column("Outcome", key: "outcome"), table.column("Next run"),
            table.column("Run", hidden: true),
        ])
        values["node"] = nodeID
        values["states"] = state.options(label: JobsView.stateLabel)
        return pages.page("admin/jobs", title: "Scheduled jobs", values: values, context: context)
    }

    @Sendable func detail(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let job = try await store.jobs(now: clock.now()).first(where: { $0.name == name }) else {
            throw HTTPError(.notFound, message: "There is no job named \(name).")
        }
        let runs = try await store.history(job: name, limit: 100)
        var values: [String: Any] = ["job": JobsView.row(job), "runs": runs.map(JobsView.row)]
        return pages.page("admin/job", title: "Job \(name)", values: values, context: context)
    }

    @Sendable func run(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let staff = try context.requireAccount()
        let name = try context.parameters.require("name")
        guard let key = try await JobsResponse.queueRun(name, by: staff, store: store, clock: clock, context: context) else {
            throw HTTPError(.notFound, message: "There is no job named \(name).")
        }
        context.flash(.success, "Queued a manual run of \(name) (\(key)): a node will run it once, shortly.")
        return redirect(to: "/admin/jobs/\(name)")
    }
}
