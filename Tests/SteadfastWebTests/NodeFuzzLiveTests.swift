import Foundation
import SteadfastTestSupport
import SteadfastWeb
import Testing

/// Mutated requests against every route of a live node: extreme and malformed numbers, ids,
/// JSON, forms, multipart bodies, ranges, cookies and headers, as anonymous, client and staff.
/// Whatever arrives, the node never dies and never answers 500 (a 503 is allowed: it says
/// "try again", and a busy SQLite writer may say it).
///
/// Deterministic for a seed (`FUZZ_SEED`, default fixed) and bounded: `FUZZ_ITERATIONS`
/// requests (default 600) or 120 s, whichever comes first.
@Suite(.serialized) struct NodeFuzzLiveTests {
    static let numbers = [
        "0", "-1", "1", "9223372036854775807", "-9223372036854775808", "92233720368547758070", "1e309", "NaN", "0x10", "١٢", "1.5", "",
        "4294967296", "2147483648", "00000000000000000000001", " 7", "+5",
    ]
    static let strings = [
        "", " ", "../../etc/passwd", "%00", "\u{0}", "<script>alert(1)</script>", "' OR 1=1 --", String(repeating: "A", count: 5000),
        "💥", "ZZ", "de", "monthly", "annually", "banktransfer", "testcard", "tok_visa", "tok_declined", "billing", "heartbeat",
        "2026-02-30", "9999-12-31", "0000-01-01", "paid", "unpaid", "draft",
    ]
    static let fields = [
        "amount", "email", "password", "name", "lines", "pricing", "cycle", "product_id", "group_id", "gateway", "card_token", "country",
        "region", "sort_order", "stock_limit", "due_date", "options", "task", "description", "to_credit", "transaction_id", "client_id",
        "recurring", "setup_fee", "hidden", "retired", "taxable", "tax_exempt", "note", "limit", "offset", "type", "checkout_id", "currency",
    ]

    @Test func mutatedRequestsNeverKillANodeOrGetA500() async throws {
        let (numbers, strings, fields) = (Self.numbers, Self.strings, Self.fields)
        let environment = ProcessInfo.processInfo.environment
        let iterations = environment["FUZZ_ITERATIONS"].flatMap(Int.init) ?? 600
        var random = SeededGenerator(seed: environment["FUZZ_SEED"].flatMap(UInt64.init) ?? 0x5EED_F00D)
        let live = try await BillingLive.start(.sqlite, name: "fuzz")
        defer { live.stop() }
        let node = live.nodes[0]
        let client = try await live.client("fuzzer")
        let placed = try await live.order(client)
        let uploaded = try await client.send("POST", "/api/v1/files", headers: ["Content-Type": "text/plain", "X-Upload-Filename": "f.txt"], body: Array("0123456789".utf8))
        let knownIDs = [placed.order, placed.invoice, live.productID, uploaded.json["id"] as? String ?? UUID().uuidString.lowercased()]
        let tokens = [
            NodeLiveTests.csrfToken(in: try await client.get("/clientarea").body) ?? "",
            NodeLiveTests.csrfToken(in: try await live.staff.get("/admin").body) ?? "",
        ]
        let routes = try await PortalRouter.registeredRoutes().filter { !$0.path.hasSuffix("logout") }
        let callers = [node.client(), client, live.staff]

        func pick<T>(_ list: [T]) -> T { list[Int(random.next() % UInt64(list.count))] }
        func chance(_ percent: UInt64) -> Bool { random.next() % 100 < percent }
        func value() -> Any {
            switch random.next() % 7 {
            case 0: return Int64(bitPattern: random.next())
            case 1: return pick([Int64.max, Int64.min, 0, -1, 1_000_000_000_000_001, 2_147_483_648])
            case 2: return pick(strings)
            case 3: return pick(numbers)
            case 4: return pick([true, false]) as Any
            case 5: return [["description": pick(strings), "amount": pick([Int64.max, 1, -5]), "cycle": pick(strings), "recurring": Int64.max]]
            default: return NSNull()
            }
        }
        func segment() -> String {
            let raw = chance(40) ? pick(knownIDs) : pick([UUID().uuidString, pick(strings), pick(numbers), "heartbeat", "billing", "local"])
            return raw.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x"
        }

        let deadline = ContinuousClock.now + .seconds(120)
        var failures: [String] = []
        var sent = 0
        var statuses: [Int: Int] = [:]
        for _ in 0..<iterations where ContinuousClock.now < deadline {
            let route = pick(routes)
            let caller = pick(callers)
            var path = route.path.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix("{") || $0.hasPrefix(":") ? segment() : String($0) }.joined(separator: "/")
            if chance(50) {
                let query = (0..<Int(random.next() % 3 + 1)).map { _ in "\(pick(["offset", "limit", "status", "search", "client_id", "saved", "notice", "queued", "expires", "signature"]))=\(pick(numbers + strings).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                path += "?" + query.joined(separator: "&")
            }
            var headers: [String: String] = [:]
            if chance(30) { headers["Range"] = pick(["bytes=0-\(pick(numbers))", "bytes=\(pick(numbers))-", "bytes=-\(pick(numbers))", "bytes=1-2,3-4", "items=0-1", pick(strings)]) }
            if chance(30) { headers["Idempotency-Key"] = pick([UUID().uuidString, "", String(repeating: "k", count: 300), pick(strings)]) }
            if chance(10) { headers["Cookie"] = pick(["steadfast_session=\(pick(strings))", "steadfast_csrf=\(pick(strings))", pick(strings)]) }
            if chance(10) { headers["Authorization"] = pick(["Bearer \(pick(strings))", "Bearer sft_" + String(repeating: "0", count: 64), "Basic xyz"]) }
            if chance(10) { headers["X-Upload-Filename"] = pick(strings).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x" }
            if chance(50) { headers["X-CSRF-Token"] = pick(tokens) }
            var body: [UInt8]? = nil
            if route.method != "GET" {
                let object = Dictionary((0..<Int(random.next() % 5)).map { _ in (pick(fields), value()) }, uniquingKeysWith: { a, _ in a })
                switch random.next() % 5 {
                case 0, 1:
                    headers["Content-Type"] = "application/json"
                    var bytes = (try? JSONSerialization.data(withJSONObject: object)).map(Array.init) ?? Array("{}".utf8)
                    if chance(20), !bytes.isEmpty { bytes.removeLast(Int(random.next() % UInt64(bytes.count))) }
                    body = bytes
                case 2:
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                    var form = object.map { "\($0.key)=\("\($0.value)".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                    if chance(60) { form.append("_csrf=\(pick(tokens))") }
                    body = Array(form.joined(separator: "&").utf8)
                case 3:
                    headers["Content-Type"] = "multipart/form-data; boundary=XyZ"
                    body = Array("--XyZ\r\nContent-Disposition: form-data; name=\"\(pick(fields))\"; filename=\"\(pick(strings))\"\r\nContent-Type: text/plain\r\n\r\n\(pick(strings))\r\n--XyZ--\r\n".utf8)
                default:
                    headers["Content-Type"] = pick(["application/json", "text/plain", "application/octet-stream", pick(strings)])
                    body = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                }
            }
            let answer: HTTPTestClient.Response
            do {
                answer = try await caller.send(route.method, path, headers: headers, body: body, timeout: .seconds(15))
            } catch {
                // The client refused to send it (an invalid header value) or the node hung up.
                guard node.process.isRunning else {
                    failures.append("\(route.method) \(path) killed the node: \(node.process.stderr.suffix(1500))")
                    break
                }
                continue
            }
            sent += 1
            statuses[answer.status, default: 0] += 1
            if answer.status >= 500, answer.status != 503 {
                failures.append("\(route.method) \(path.prefix(200)) \(headers) -> \(answer.status) \(answer.body.prefix(200))")
            }
        }
        print("fuzz: \(sent) requests, answers by status: \(statuses.sorted { $0.key < $1.key })")
        #expect(sent >= min(iterations, 100), "only \(sent) requests went out")
        #expect(failures.isEmpty, "\(failures.count) answers of 500 or worse:\n\(failures.prefix(10).joined(separator: "\n"))")
        #expect(node.process.isRunning)
        #expect(try await node.client().get("/healthz").status == 200)
    }
}
