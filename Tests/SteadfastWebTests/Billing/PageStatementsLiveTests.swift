import Foundation
import SteadfastTestSupport
import Testing

/// What one client-area invoice page costs the database, counted by PostgreSQL itself
/// (`pg_stat_statements`): every statement is a round trip and the node's CPU per page on
/// PostgreSQL grows with their number (docs/billing.md, "Benchmark"). A page of 50 invoices
/// runs two statements: the session with its account, and the page of invoices. A statement per
/// row (say, a name looked up per invoice) would add fifty.
@Suite(.serialized, .timeLimit(.minutes(3))) struct PageStatementsLiveTests {
    /// The statements a page may run.
    static let budget = 2

    @Test func theInvoiceListRunsAFixedNumberOfStatementsWhateverItShows() async throws {
        // A server of its own: pg_stat_statements must be preloaded, and other suites'
        // statements must not be counted.
        let server = try await PostgresServer.start(settings: ["shared_preload_libraries": "'pg_stat_statements'"])
        defer { server.stop() }
        let name = try await server.createDatabase(prefix: "statements")
        try await server.psql("CREATE EXTENSION pg_stat_statements", database: name)
        // Jobs off and the storage routes read once, at start: only requests run statements
        // (besides the role monitor's probes, left out below). The routes' re-read, every 5 s
        // by default, was counted as a page's when a loaded machine made the pages slow.
        let node = try await SteadfastNode.start(
            name: "statements", database: server.url(database: name),
            arguments: ["--set", "jobs.enabled=false", "--set", "storage.route_refresh_interval=1h"]
        )
        defer { node.process.send(SIGKILL) }

        let client = node.client()
        let email = "pages-\(UUID().uuidString.prefix(8))@example.com"
        let registered = try await client.postJSON("/api/v1/auth/register", ["email": email, "password": "correct horse battery", "name": "Pages"])
        try #require(registered.status == 201, "register: \(registered.body)")
        let login = try await client.postJSON("/api/v1/auth/login", ["email": email, "password": "correct horse battery"])
        try #require(login.status == 200, "log-in: \(login.body)")
        let clientID = try #require(login.json["id"] as? String)

        // 60 issued invoices: more than a page (50 rows).
        try await server.psql("""
            INSERT INTO invoices (id, client_id, number, status, currency, issue_date, due_date, subtotal, tax, total, amount_paid,
                                  tax_name, tax_rate, tax_mode, created_at, updated_at)
            SELECT gen_random_uuid(), '\(clientID)', 'ST-' || g, 'unpaid', 'EUR', '2026-01-01', '2026-01-15', 1000, 190, 1190, 0,
                   'VAT', 19000, 'exclusive', now() - g * interval '1 second', now()
            FROM generate_series(1, 60) AS g
            """, database: name)

        // The first page sets the CSRF cookie, as in a browser; the pages after it are counted.
        let first = try await client.get("/clientarea/invoices")
        try #require(first.status == 200)
        try await server.psql("SELECT pg_stat_statements_reset()", database: name)
        let pages = 5
        for _ in 0..<pages {
            let page = try await client.get("/clientarea/invoices")
            try #require(page.status == 200)
            #expect(page.body.components(separatedBy: "ST-").count - 1 == 50, "a full page of invoices")
        }
        // Each statement with its calls; the role monitor's probe (its own connections, once a
        // second) is not a page's.
        let counted = try await server.psql("""
            SELECT calls || ' ' || regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_is_in_recovery()%'
            ORDER BY calls DESC
            """, database: name)
        let lines = counted.split(separator: "\n").filter { !$0.isEmpty }
        let calls = lines.compactMap { Int($0.prefix { $0 != " " }) }.reduce(0, +)
        print("statements for \(pages) invoice pages:\n\(counted)")
        #expect(calls == pages * Self.budget, "\(calls) statements for \(pages) pages, expected \(Self.budget) each:\n\(counted)")
    }
}
