import Hummingbird

/// The one staff check for a group of routes (the support desk's admin API and pages), so no
/// handler repeats it: API routes answer 401/403 as JSON, pages send visitors to the log-in
/// page and answer clients 403.
struct StaffOnlyMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext

    enum Mode: Sendable { case api, pages }
    let mode: Mode

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch mode {
        case .api: _ = try context.requireStaff()
        case .pages: _ = try context.requireStaffPage()
        }
        return try await next(request, context)
    }
}
