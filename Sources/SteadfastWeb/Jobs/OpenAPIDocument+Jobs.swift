import SteadfastJobs

extension OpenAPIDocument {
    /// The scheduled jobs (staff).
    static var jobOperations: [Operation] { [
        Operation(method: "get", path: "/admin/jobs", summary: "Scheduled jobs: schedule, catch-up policy, last run (node, duration, outcome) and next slot (state=failing|running|ok|never, sort=, dir=, limit=, offset=)", access: .staff, sort: JobStore.sortColumns, tag: "jobs"),
        Operation(method: "get", path: "/admin/jobs/{name}/runs", summary: "A job's recent runs, newest first (?limit=1-1000, default 50)", access: .staff, tag: "jobs"),
        Operation(method: "post", path: "/admin/jobs/{name}/run", summary: "Queue a manual run (202 with its slot key); exactly one node runs it", access: .staff, tag: "jobs"),
    ] }
}
