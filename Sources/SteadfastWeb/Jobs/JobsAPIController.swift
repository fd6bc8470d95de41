import Hummingbird
import SteadfastDomain
import SteadfastJobs

/// Staff JSON for the scheduler (`jobs.run`): `GET /api/v1/admin/jobs` (sorted, filtered, paged), `GET /api/v1/admin/jobs/{name}/runs`,
/// `POST /api/v1/admin/jobs/{name}/run` (202: a manual run is queued; some node runs it once).
struct JobsAPIController: Sendable {
    let store: JobStore
    let clock: any WallClock
    let nodeID: String

    func addRoutes(to group: RouterGroup<PortalRequestContext>) {
        let jobs = group.group("admin/jobs").add(middleware: RequirePermission(.jobsRun))
        jobs.get(use: list)
        jobs.get(":name/runs", use: runs)
        jobs.post(":name/run", use: run)
    }

    /// `GET /api/v1/admin/jobs?state=failing|running|ok|never&sort=&dir=&limit=&offset=`: by name
    /// unless `sort` (`JobStore.sortColumns`) says otherwise.
    @Sendable func list(_ request: Request, context: PortalRequestContext) async throws -> JobsResponse {
        let page = try context.page(request)
        let state = try ListChoice<JobStore.ListState>(request, "state")
        let sort = try ListSorting.parse(request, columns: JobStore.sortColumns)
        let jobs = try await store.jobs(now: clock.now(), state: state.selected, sort: sort, limit: page.limit, offset: page.offset)
        return JobsResponse(node: nodeID, jobs: jobs, limit: page.limit, offset: page.offset)
    }

    @Sendable func runs(_ request: Request, context: PortalRequestContext) async throws -> JobRunsResponse {
        let name = try context.parameters.require("name")
        let limit = try PageRequest(request, maxLimit: 1000).limit
        return JobRunsResponse(runs: try await store.history(job: name, limit: limit).map(JobsResponse.Run.init))
    }

    @Sendable func run(_ request: Request, context: PortalRequestContext) async throws -> EditedResponse<JobRunQueuedResponse> {
        let staff = try context.requireAccount()
        let name = try context.parameters.require("name")
        guard let key = try await JobsResponse.queueRun(name, by: staff, store: store, clock: clock, context: context) else {
            throw HTTPError(.notFound, message: "there is no job named \(name)")
        }
        return EditedResponse(status: .accepted, response: JobRunQueuedResponse(job: name, slot_key: key))
    }
}
