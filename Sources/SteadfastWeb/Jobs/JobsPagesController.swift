import Foundation
import Hummingbird
import SteadfastDomain
import SteadfastJobs

/// The staff scheduler pages (`jobs.run`): `/admin/jobs` (every job: schedule, last run and its node,
/// duration and outcome, next run, a CSRF-protected "Run now" button) and `/admin/jobs/{name}`
/// (the job's history).
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

    @Sendable func list(_ request: Request, context: PortalRequestContext) async throws -> Response {
        let jobs = try await store.jobs(now: clock.now())
        return pages.page("admin/jobs", title: "Scheduled jobs", values: ["node": nodeID, "jobs": jobs.map(JobsView.row), "none": jobs.isEmpty], context: context)
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
        let key: String
        do {
            key = try await store.requestRun(job: name, requestedBy: staff.email.value, now: clock.now(), alsoRecord: JobsResponse.audit(job: name, now: clock.now()))
        } catch let error as JobError where error.code == .unknownJob {
            throw HTTPError(.notFound, message: "There is no job named \(name).")
        }
        context.logger.notice("manual job run requested", metadata: ["steadfast.job.name": "\(name)", "steadfast.job.slot": "\(key)"])
        context.flash(.success, "Queued a manual run of \(name) (\(key)): a node will run it once, shortly.")
        return redirect(to: "/admin/jobs/\(name)")
    }
}
