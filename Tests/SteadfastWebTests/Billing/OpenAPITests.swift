import Foundation
import SteadfastJobs
import SteadfastPersistence
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// The published OpenAPI document and the router's `/api/v1` routes must list exactly the
/// same paths and methods.
@Suite struct OpenAPITests {
    @Test func theDocumentMatchesTheRegisteredRoutes() async throws {
        let routes = try await PortalRouter.registeredRoutes().filter { $0.path.hasPrefix("/api/v1/") }
        let registered = Set(routes.map { "\($0.method.uppercased()) \($0.path.dropFirst("/api/v1".count))" })
        #expect(registered.count > 40)

        let node = try await SteadfastNode.start(name: "openapi")
        defer { node.process.send(SIGKILL) }
        let served = try await node.client().get("/api/v1/openapi.json")
        #expect(served.status == 200)
        #expect(served.header("Content-Type")?.hasPrefix("application/json") == true)
        let document = served.json
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, operations) in paths {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(registered.subtracting(documented).sorted() == [], "routes missing from openapi.json")
        #expect(documented.subtracting(registered).sorted() == [], "openapi.json documents routes that do not exist")
        // Every documented parameter in a path is declared.
        for (path, operations) in paths {
            let names = path.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            for (_, operation) in operations {
                let declared = ((operation as? [String: Any])?["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(Set(names).isSubset(of: Set(declared)), "\(path) does not declare its path parameters")
            }
        }
        // Every staff list that sorts declares `sort` with exactly its allow-list's keys, and `dir`.
        let sorted: [String: SortableColumns] = [
            "/admin/clients": ClientRepository.sortColumns, "/admin/orders": OrderRepository.sortColumns,
            "/admin/services": ServiceRepository.sortColumns, "/admin/invoices": InvoiceRepository.sortColumns,
            "/admin/payments": PaymentRepository.sortColumns, "/admin/tickets": TicketRepository.sortColumns,
            "/admin/mail/outbox": MailOutboxRepository.sortColumns, "/admin/staff": StaffRepository.sortColumns,
            "/admin/audit-events": AuditEventRepository.sortColumns,
            "/admin/products": CatalogueRepository.sortColumns,
            "/announcements": ContentRepository.announcementSortColumns, "/kb/articles": ContentRepository.articleSortColumns,
            "/downloads": ContentRepository.downloadSortColumns,
            "/admin/api-tokens": APITokenRepository.sortColumns,
            "/admin/jobs": JobStore.sortColumns,
        ]
        for (path, columns) in sorted {
            let parameters = (paths[path]?["get"] as? [String: Any])?["parameters"] as? [[String: Any]] ?? []
            let sort = parameters.first { $0["name"] as? String == "sort" }
            #expect(sort?["in"] as? String == "query", "\(path) does not declare sort")
            #expect((sort?["schema"] as? [String: Any])?["enum"] as? [String] == columns.keys, "\(path): sort's choices are not its allow-list")
            let dir = parameters.first { $0["name"] as? String == "dir" }
            #expect((dir?["schema"] as? [String: Any])?["enum"] as? [String] == ["asc", "desc"], "\(path) does not declare dir")
        }
        // And nothing else claims to sort.
        for (path, operations) in paths where sorted[path] == nil {
            for (method, operation) in operations {
                let declared = ((operation as? [String: Any])?["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                #expect(!declared.contains("sort"), "\(method.uppercased()) \(path) declares sort but is not a sorted list")
            }
        }
    }
}
