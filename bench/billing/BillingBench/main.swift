// BillingBench: seeds a billing database (10,000 clients, 50,000 invoices by default), starts a
// real `steadfast serve` node on it, logs in 50 clients and measures, with 50 concurrent
// clients, requests per second and p50/p99 latency of
//   - the client-area invoice list (GET /clientarea/invoices, the HTML page), and
//   - paying an invoice (POST /api/v1/invoices/{id}/pay, test card, a new Idempotency-Key each time).
// Run it through bench/billing/run.sh, which builds it in release mode and provides PostgreSQL.
//
// Usage: BillingBench --steadfast PATH --database URL [--clients N] [--invoices N]
//                     [--concurrency N] [--seconds N] [--label NAME] [--generator wrk|swift]
//                     [--scenarios healthz,invoice-list,pay-invoice]
// The load comes from wrk (a Lua script gives each request one of the clients' session cookies
// and, for payments, a fresh Idempotency-Key) when it is installed, otherwise from an
// AsyncHTTPClient loop in this process; both print the same line.
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

struct Options {
    var steadfast = ""
    var database = ""
    var clients = 10_000
    var invoices = 50_000
    var concurrency = 50
    var seconds = 10
    var label = ""
    /// Which measurements to run (comma-separated), e.g. `invoice-list` alone while profiling.
    var scenarios = ["healthz", "invoice-list", "pay-invoice"]
    /// `wrk` (default when installed: a light C load generator) or `swift` (AsyncHTTPClient).
    var generator = FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") ? "wrk" : "swift"

    init(_ arguments: [String]) throws {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw BenchError("\(flag) needs a value") }
            switch flag {
            case "--steadfast": steadfast = value
            case "--database": database = value
            case "--clients": clients = Int(value) ?? clients
            case "--invoices": invoices = Int(value) ?? invoices
            case "--concurrency": concurrency = Int(value) ?? concurrency
            case "--seconds": seconds = Int(value) ?? seconds
            case "--label": label = value
            case "--generator": generator = value
            case "--scenarios": scenarios = value.split(separator: ",").map(String.init)
            default: throw BenchError("unknown flag \(flag)")
            }
        }
        guard !steadfast.isEmpty, !database.isEmpty else { throw BenchError("--steadfast and --database are required") }
        if label.isEmpty { label = database.hasPrefix("postgres") ? "postgresql" : "sqlite" }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let password = "benchmark password 1"
let logger = Logger(label: "bench")

// MARK: Seeding

/// Writes clients, profiles and invoices (with one line each) in multi-row INSERTs.
func seed(_ database: any SQLDatabase, options: Options) async throws -> [UUID] {
    try await Migrator(nodeID: "bench").migrate(database, logger: logger)
    let hash = try await PasswordHasher(cost: 4).hash(password)
    let now = Date()
    let today = BillingDate(now, in: TimeZone(identifier: "UTC")!)
    let clientIDs = (0..<options.clients).map { _ in UUID() }
    let batch = 500
    for start in stride(from: 0, to: clientIDs.count, by: batch) {
        let ids = Array(clientIDs[start..<min(start + batch, clientIDs.count)])
        try await database.transaction { tx in
            let accounts: [SQL] = ids.enumerated().map { offset, id in
                let n = start + offset
                let email = String(format: "bench-%05d@example.com", n)
                return "(\(id), \(email), \(email), \("Bench client \(n)"), 'client', \(hash), \(now), \(now))"
            }
            try await tx.query("""
                INSERT INTO accounts (id, email, email_normalized, name, role, password_hash, created_at, updated_at) VALUES \(SQL.joined(accounts, separator: ", "))
                """)
            let profiles: [SQL] = ids.map { id in "(\(id), 'DE', \(false), 'EUR', \(now), \(now))" }
            try await tx.query("""
                INSERT INTO billing_profiles (client_id, country, tax_exempt, currency, created_at, updated_at) VALUES \(SQL.joined(profiles, separator: ", "))
                """)
        }
    }
    // Invoices: round robin over clients, newest last; every fifth one unpaid with a large
    // balance, so the pay benchmark can keep paying one cent at a time.
    let format = InvoiceNumberFormat.standard
    for start in stride(from: 0, to: options.invoices, by: batch) {
        let range = start..<min(start + batch, options.invoices)
        try await database.transaction { tx in
            var invoices: [SQL] = []
            var lines: [SQL] = []
            for n in range {
                let id = UUID()
                let client = clientIDs[n % clientIDs.count]
                let unpaid = (n / clientIDs.count) % 5 == 4
                let net: Int64 = unpaid ? 10_000_000 : 1_000 + Int64(n % 5_000)
                let tax = (net * 19 + 50) / 100
                let issued = today.adding(days: -(options.invoices - n) / 200)
                let created = now.addingTimeInterval(-Double(options.invoices - n))
                invoices.append("""
                    (\(id), \(client), \(format.render(sequence: Int64(n + 1), date: today)), \(unpaid ? "unpaid" : "paid"), 'EUR', \(issued.iso), \(issued.adding(days: 7).iso),
                     \(unpaid ? nil : created), \(net), \(tax), \(net + tax), \(unpaid ? 0 : net + tax), 'VAT', \(Int64(19_000)), 'exclusive', \(created), \(created))
                    """)
                lines.append("(\(UUID()), \(id), 1, 'custom', \("Hosting \(n)"), \(net), \(tax), \(net + tax), \(true))")
            }
            try await tx.query("""
                INSERT INTO invoices (id, client_id, number, status, currency, issue_date, due_date, paid_at, subtotal, tax, total, amount_paid,
                                      tax_name, tax_rate, tax_mode, created_at, updated_at) VALUES \(SQL.joined(invoices, separator: ", "))
                """)
            try await tx.query("""
                INSERT INTO invoice_items (id, invoice_id, position, kind, description, net, tax, gross, taxable) VALUES \(SQL.joined(lines, separator: ", "))
                """)
        }
    }
    try await database.query("""
        INSERT INTO invoice_sequences (sequence_key, last_value) VALUES (\(format.sequenceKey(for: today)), \(Int64(options.invoices)))
        """)
    if database.dialect == .postgres { try await database.query("ANALYZE") }
    return clientIDs
}

// MARK: The node

final class Node: Sendable {
    let process: Process
    let baseURL: String
    /// The node's standard error (a crash report lands there).
    let errors: URL

    /// CPU seconds (user + system) the node process has used so far, from /proc/PID/stat.
    var cpuSeconds: Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    init(binary: String, database: String, directory: URL) async throws {
        let output = directory.appendingPathComponent("node.log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "serve", "--port", "0", "--database", database, "--node-id", "bench", "--drain-delay", "0s", "--log-level", "warning",
            "--set", "security.bcrypt_cost=4", "--set", "billing.currency=EUR", "--set", "billing.tax_rules=DE=19:VAT",
            "--set", "billing.gateways=banktransfer,testcard", "--set", "security.rate_limit.login_per_ip=off",
            "--admin-email", "staff@example.com", "--admin-password", password,
        ]
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: output)
        errors = directory.appendingPathComponent("node-stderr.log")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: #"listening on (http://[0-9.]+:[0-9]+)"#, options: .regularExpression) {
                baseURL = String(text[range].dropFirst("listening on ".count))
                return
            }
            guard process.isRunning else { throw BenchError("the node exited at start") }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("the node did not start")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// Throws if the node has died, with the end of its standard error: a benchmark must not
    /// print figures for a run whose node crashed (one did, unseen, after its measured runs:
    /// docs/mail.md, "Attachments").
    func checkAlive(after what: String) throws {
        guard !process.isRunning else { return }
        let text = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(40).joined(separator: "\n")
        throw BenchError("the node died during or after \(what) (status \(process.terminationStatus)); its standard error ends:\n\(tail)")
    }
}

// MARK: Load

struct Measurement {
    var count = 0
    var errors = 0
    var seconds: Double = 0
    var p50: Double = 0
    var p99: Double = 0
    /// CPU seconds the node spent during the run (user + system, from /proc), when known: a
    /// figure other processes on a busy machine disturb much less than latency.
    var nodeCPU: Double?
    /// Statements the database server ran during the run (PostgreSQL's pg_stat_statements), when known.
    var statements: Int64?

    init() {}

    init(latencies: [Double], errors: Int, seconds: Double) {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        count = sorted.count
        self.errors = errors
        self.seconds = seconds
        p50 = percentile(0.50)
        p99 = percentile(0.99)
    }

    func line(_ label: String, _ scenario: String, generator: String) -> String {
        "\(label) \(scenario) requests=\(count) errors=\(errors) rps=\(Int((Double(count) / seconds).rounded())) "
            + String(format: "p50=%.2fms p99=%.2fms", p50 * 1000, p99 * 1000)
            + (nodeCPU.map { String(format: " node-cpu/request=%.0fus", $0 / Double(max(count, 1)) * 1e6) } ?? "")
            + (statements.map { String(format: " statements/request=%.2f", Double($0) / Double(max(count, 1))) } ?? "")
            + " (load: \(generator))"
    }
}

/// Statements the PostgreSQL server runs, from `pg_stat_statements` (run.sh preloads it; BEGIN
/// and COMMIT count, as they are round trips too). Read before and after a measured run, the
/// difference gives statements per request; with `BENCH_STATEMENTS=1` the statements themselves
/// are printed, most frequent first. Absent on SQLite and when the extension is not available.
struct StatementCounter {
    let database: any SQLDatabase

    static func open(_ url: String) async -> (StatementCounter, Task<Void, any Error>?)? {
        guard url.hasPrefix("postgres"), let parsed = try? DatabaseURL(url),
              let opened = try? await DatabaseConnector.open(parsed, logger: logger) else { return nil }
        let pool = opened.service.map { service in Task { try await service.run() } }
        do {
            try await opened.database.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            _ = try await opened.database.query("SELECT pg_stat_statements_reset()")
        } catch {
            pool?.cancel()
            return nil
        }
        return (StatementCounter(database: opened.database), pool)
    }

    /// Calls so far, by statement (the counter's own statements left out).
    func calls() async -> [String: Int64] {
        guard let rows = try? await database.query("""
            SELECT query, sum(calls)::bigint AS calls FROM pg_stat_statements
            WHERE query NOT LIKE '%pg_stat_statements%' GROUP BY query
            """) else { return [:] }
        var result: [String: Int64] = [:]
        for row in rows { if let query = try? row.string("query"), let calls = try? row.int("calls") { result[query] = calls } }
        return result
    }

    /// Statements run between two readings; prints them per request when asked to.
    static func difference(_ before: [String: Int64], _ after: [String: Int64], requests: Int) -> Int64 {
        let counts = after.map { ($0.key, $0.value - (before[$0.key] ?? 0)) }.filter { $0.1 > 0 }
        if ProcessInfo.processInfo.environment["BENCH_STATEMENTS"] == "1" {
            for (query, calls) in counts.sorted(by: { $0.1 > $1.1 }).prefix(12) {
                let text = query.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                print(String(format: "    %6.2f/request  ", Double(calls) / Double(max(requests, 1))) + String(text.prefix(150)))
            }
        }
        return counts.reduce(0) { $0 + $1.1 }
    }
}

/// Runs `concurrency` workers for `seconds`, each calling `request(worker, iteration)`.
func load(concurrency: Int, seconds: Int, _ request: @escaping @Sendable (Int, Int) async throws -> Bool) async -> Measurement {
    let start = ContinuousClock.now
    let deadline = start + .seconds(seconds)
    let results = await withTaskGroup(of: ([Double], Int).self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var latencies: [Double] = []
                var errors = 0
                var iteration = 0
                while ContinuousClock.now < deadline {
                    let t0 = ContinuousClock.now
                    let ok = (try? await request(worker, iteration)) ?? false
                    let elapsed = ContinuousClock.now - t0
                    if ok {
                        latencies.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                    } else {
                        errors += 1
                    }
                    iteration += 1
                }
                return (latencies, errors)
            }
        }
        return await group.reduce(into: ([Double](), 0)) { $0.0 += $1.0; $0.1 += $1.1 }
    }
    let elapsed = ContinuousClock.now - start
    return Measurement(latencies: results.0, errors: results.1, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// Runs wrk with a Lua script that rotates over the sessions (and, for payments, the clients'
/// unpaid invoices, with a fresh Idempotency-Key per request); parses its report.
func wrk(_ scenario: String, baseURL: String, sessions: [String], invoices: [[String]], concurrency: Int, seconds: Int, directory: URL) throws -> Measurement {
    func lua(_ strings: [String]) -> String { "{" + strings.map { "\"\($0)\"" }.joined(separator: ",") + "}" }
    let script = """
        local cookies = \(lua(sessions))
        local invoices = {\(invoices.map(lua).joined(separator: ","))}
        local n = 0
        -- Idempotency keys: this run's UUID and the wrk thread, so no two requests share a key
        -- (Lua's math.random is unseeded, so it gave every thread and every run, the warm-up
        -- included, the same keys: payments were partly replays).
        local threads = 0
        function setup(thread)
          threads = threads + 1
          thread:set("salt", "\(UUID().uuidString)-" .. threads)
        end
        function request()
          n = n + 1
          local i = (n % #cookies) + 1
          if "\(scenario)" == "healthz" then
            return wrk.format("GET", "/healthz")
          end
          if "\(scenario)" == "invoice-list" then
            return wrk.format("GET", "/clientarea/invoices", {["Cookie"] = cookies[i]})
          end
          local list = invoices[i]
          local id = list[(math.floor(n / #cookies) % #list) + 1]
          return wrk.format("POST", "/api/v1/invoices/" .. id .. "/pay",
            {["Cookie"] = cookies[i], ["Content-Type"] = "application/json", ["Idempotency-Key"] = salt .. "-" .. n},
            '{"gateway":"testcard","card_token":"tok_visa","amount":1}')
        end
        """
    let scriptURL = directory.appendingPathComponent("\(scenario).lua")
    try script.write(to: scriptURL, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/wrk")
    process.arguments = ["-t", "2", "-c", "\(concurrency)", "-d", "\(seconds)s", "--latency", "--timeout", "30s", "-s", scriptURL.path, baseURL]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    func duration(_ text: Substring) -> Double {
        let units: [(String, Double)] = [("us", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where text.hasSuffix(suffix) { return (Double(text.dropLast(suffix.count)) ?? 0) * scale }
        return Double(text) ?? 0
    }
    var measurement = Measurement()
    for line in output.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count == 2, fields[0] == "50%" { measurement.p50 = duration(fields[1]) }
        if fields.count == 2, fields[0] == "99%" { measurement.p99 = duration(fields[1]) }
        if line.contains("requests in"), let count = Int(fields[0]) { measurement.count = count }
        if line.contains("Non-2xx or 3xx responses:"), let count = Int(fields.last ?? "") { measurement.errors += count }
        if line.contains("Socket errors:") { measurement.errors += fields.compactMap { Int($0.trimmingCharacters(in: .punctuationCharacters)) }.reduce(0, +) }
    }
    measurement.seconds = Double(seconds)
    guard measurement.count > 0 else { throw BenchError("wrk printed no result:\n\(output)") }
    return measurement
}

func main() async throws {
    let options = try Options(CommandLine.arguments)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("billing-bench-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }

    // Seed.
    let seedStart = ContinuousClock.now
    var postgres = DatabaseConnector.PostgresOptions()
    postgres.maximumConnections = 8
    postgres.requestTimeout = .seconds(120)
    let opened = try await DatabaseConnector.open(try DatabaseURL(options.database), postgres: postgres, logger: logger)
    let pool = opened.service.map { service in Task { try await service.run() } }
    let clients = try await seed(opened.database, options: options)
    pool?.cancel()
    try await opened.database.close()
    print("\(options.label) seeded \(clients.count) clients and \(options.invoices) invoices in \(ContinuousClock.now - seedStart)")

    // Serve.
    let node = try await Node(binary: options.steadfast, database: options.database, directory: directory)
    defer { node.stop() }
    var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(30)))
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: options.concurrency + 8)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)

    // One session per simulated client; each knows its unpaid invoices.
    var cookies: [String] = []
    var unpaid: [[String]] = []
    for n in 0..<options.concurrency {
        var login = HTTPClientRequest(url: node.baseURL + "/api/v1/auth/login")
        login.method = .POST
        login.headers.add(name: "Content-Type", value: "application/json")
        login.body = .bytes(ByteBuffer(string: #"{"email":"\#(String(format: "bench-%05d@example.com", n))","password":"\#(password)"}"#))
        let response = try await http.execute(login, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok, let cookie = response.headers["Set-Cookie"].first?.split(separator: ";").first else {
            throw BenchError("log-in failed: \(response.status)")
        }
        // Like a browser, keep the CSRF nonce cookie the first page sets (or every page would set a new one).
        var page = HTTPClientRequest(url: node.baseURL + "/clientarea/invoices")
        page.headers.add(name: "Cookie", value: String(cookie))
        let first = try await http.execute(page, timeout: .seconds(30))
        _ = try await first.body.collect(upTo: 16 << 20)
        let csrf = first.headers["Set-Cookie"].compactMap { $0.split(separator: ";").first }.first { $0.hasPrefix("steadfast_csrf=") }
        cookies.append(([String(cookie)] + (csrf.map { [String($0)] } ?? [])).joined(separator: "; "))
        var list = HTTPClientRequest(url: node.baseURL + "/api/v1/invoices?limit=200")
        list.headers.add(name: "Cookie", value: String(cookie))
        let listed = try await http.execute(list, timeout: .seconds(30))
        let body = try await listed.body.collect(upTo: 16 << 20)
        let items = ((try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["items"] as? [[String: Any]]) ?? []
        unpaid.append(items.filter { $0["status"] as? String == "unpaid" }.compactMap { $0["id"] as? String })
        guard !unpaid[n].isEmpty else { throw BenchError("client \(n) has no unpaid invoice (seed more invoices per client)") }
    }
    let sessions = cookies
    let payable = unpaid
    let statementCounting = await StatementCounter.open(options.database)
    let counter = statementCounting?.0
    defer { statementCounting?.1?.cancel() }
    let baseURL = node.baseURL

    let list: @Sendable (Int, Int) async throws -> Bool = { worker, _ in
        var request = HTTPClientRequest(url: baseURL + "/clientarea/invoices")
        request.headers.add(name: "Cookie", value: sessions[worker])
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return response.status == .ok && body.readableBytes > 1000
    }
    let pay: @Sendable (Int, Int) async throws -> Bool = { worker, iteration in
        let invoices = payable[worker]
        var request = HTTPClientRequest(url: baseURL + "/api/v1/invoices/\(invoices[iteration % invoices.count])/pay")
        request.method = .POST
        request.headers.add(name: "Cookie", value: sessions[worker])
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Idempotency-Key", value: UUID().uuidString)
        request.body = .bytes(ByteBuffer(string: #"{"gateway":"testcard","card_token":"tok_visa","amount":1}"#))
        let response = try await http.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }

    if options.generator == "wrk" {
        // healthz: the same stack with no database and no page, for reading the others against.
        for scenario in options.scenarios {
            _ = try wrk(scenario, baseURL: baseURL, sessions: sessions, invoices: payable, concurrency: options.concurrency, seconds: 2, directory: directory)
            let statementsBefore = await counter?.calls()
            let before = node.cpuSeconds
            var measured = try wrk(scenario, baseURL: baseURL, sessions: sessions, invoices: payable, concurrency: options.concurrency, seconds: options.seconds, directory: directory)
            if let before, let after = node.cpuSeconds { measured.nodeCPU = after - before }
            if let counter, let statementsBefore {
                measured.statements = StatementCounter.difference(statementsBefore, await counter.calls(), requests: measured.count)
            }
            try node.checkAlive(after: scenario)
            print(measured.line(options.label, scenario, generator: "wrk"))
        }
    } else {
        _ = await load(concurrency: options.concurrency, seconds: 2, list) // warm-up
        let listed = await load(concurrency: options.concurrency, seconds: options.seconds, list)
        print(listed.line(options.label, "invoice-list", generator: "swift"))
        _ = await load(concurrency: options.concurrency, seconds: 2, pay) // warm-up
        let paid = await load(concurrency: options.concurrency, seconds: options.seconds, pay)
        try node.checkAlive(after: "pay-invoice")
        print(paid.line(options.label, "pay-invoice", generator: "swift"))
    }
    // Each payment queued a receipt with the invoice PDF: stay for one run of the mail job
    // (`mail.delivery_interval`, 15 s, and the scheduler's look) and check the node outlived it.
    if options.scenarios.contains("pay-invoice") {
        try await Task.sleep(for: .seconds(18))
        try node.checkAlive(after: "the mail job's run after pay-invoice")
    }
    try await http.shutdown()
}

do {
    try await main()
} catch {
    FileHandle.standardError.write(Data("BillingBench: \(error)\n".utf8))
    exit(1)
}
