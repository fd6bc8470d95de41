import Crypto
import Foundation
import NIOHTTP1

/// How invoices get paid: by test card when the nodes offer it (`billing.gateways`), otherwise
/// by bank transfer, which staff record through the admin API.
public enum PaymentMode: String, Codable, Sendable {
    case testcard
    case bankTransfer = "banktransfer"
}

/// A registered account the load logs in with.
public struct VisitorAccount: Sendable, Equatable {
    public var email: String
    public var password: String
}

/// What every visitor shares: the cluster's URL, the product to order, how to pay, the staff session.
public struct LoadSetup: Sendable {
    public var productID: String
    public var paymentMode: PaymentMode
    public var staff: ChaosSession
    public var thinkTime: Duration

    public init(productID: String, paymentMode: PaymentMode, staff: ChaosSession, thinkTime: Duration) {
        self.productID = productID
        self.paymentMode = paymentMode
        self.staff = staff
        self.thinkTime = thinkTime
    }
}

/// One simulated customer: a logged-in session that browses pages and the API, orders and
/// pays, uploads and downloads files, in a random mix, until the ledger says stop. Every
/// request is recorded; writes are retried with the same Idempotency-Key like a careful client.
public struct Visitor: Sendable {
    public let index: Int
    public private(set) var session: ChaosSession
    let setup: LoadSetup
    let ledger: LoadLedger
    var uploads: [(id: String, sha256: String)] = []
    var generator = SystemRandomNumberGenerator()

    public init(index: Int, session: ChaosSession, setup: LoadSetup, ledger: LoadLedger) {
        self.index = index
        self.session = session
        self.setup = setup
        self.ledger = ledger
    }

    enum Action: CaseIterable {
        case clientArea, store, me, invoices, catalogue, order, upload, download, newcomer

        var weight: Int {
            switch self {
            case .clientArea: 14
            case .store: 8
            // Frequent: db-failover needs session reads inside a half-second promotion.
            case .me: 20
            case .invoices: 10
            case .catalogue: 8
            case .order: 14
            case .upload: 10
            case .download: 12
            case .newcomer: 2
            }
        }
    }

    public mutating func run() async {
        while !ledger.isStopping && !Task.isCancelled {
            await perform(pick())
            try? await Task.sleep(for: setup.thinkTime)
        }
    }

    mutating func pick() -> Action {
        let total = Action.allCases.reduce(0) { $0 + $1.weight }
        var roll = Int.random(in: 0..<total, using: &generator)
        for action in Action.allCases {
            if roll < action.weight { return action }
            roll -= action.weight
        }
        return .me
    }

    mutating func perform(_ action: Action) async {
        switch action {
        case .clientArea: await request(.page, .GET, "/clientarea", expected: [200])
        case .store: await request(.page, .GET, "/store", expected: [200])
        case .me: await request(.sessionRead, .GET, "/api/v1/me", expected: [200])
        case .invoices: await request(.apiRead, .GET, "/api/v1/invoices?limit=20", expected: [200])
        case .catalogue: await request(.apiRead, .GET, "/api/v1/catalogue", expected: [200])
        case .order: await order()
        case .upload: await upload()
        case .download: await download()
        case .newcomer: await newcomer()
        }
    }

    /// Adds the product to the cart, checks out and pays the invoice.
    mutating func order() async {
        guard await request(.addToCart, .POST, "/api/v1/cart/items", json: ["product_id": setup.productID, "cycle": "monthly"], expected: [201]).ok != nil
        else { return }
        let checkoutKey = UUID().uuidString
        guard let placed = await retried({ visitor in
            await visitor.request(.checkout, .POST, "/api/v1/cart/checkout", json: [:], headers: [("Idempotency-Key", checkoutKey)], expected: [201])
        }), let invoiceID = placed.json["invoice_id"] as? String else { return }
        ledger.acknowledgeInvoice(id: invoiceID, number: placed.json["invoice_number"] as? String)
        let total = (placed.json["total"] as? NSNumber)?.int64Value ?? 0
        await pay(invoiceID: invoiceID, total: total)
    }

    mutating func pay(invoiceID: String, total: Int64) async {
        ledger.attemptPayment(invoiceID: invoiceID)
        let payKey = UUID().uuidString
        let path = "/api/v1/invoices/\(invoiceID)/pay"
        switch setup.paymentMode {
        case .testcard:
            guard let paid = await retried({ visitor in
                await visitor.request(.pay, .POST, path, json: ["gateway": "testcard", "card_token": "tok_visa"], headers: [("Idempotency-Key", payKey)], expected: [200])
            }) else { return }
            if let payment = (paid.json["payment"] as? [String: Any])?["id"] as? String {
                ledger.acknowledgePayment(paymentID: payment, invoiceID: invoiceID)
            }
        case .bankTransfer:
            guard await retried({ visitor in
                await visitor.request(.pay, .POST, path, json: ["gateway": "banktransfer"], headers: [("Idempotency-Key", payKey)], expected: [200])
            }) != nil else { return }
            // The money "arrives": staff record it under a fresh bank reference and key.
            let recordKey = UUID().uuidString
            let reference = "chaos-\(UUID().uuidString.prefix(13).lowercased())"
            var staff = setup.staff
            guard let recorded = await retried({ visitor in
                await visitor.request(
                    .recordPayment, .POST, "/api/v1/admin/invoices/\(invoiceID)/payments", via: &staff,
                    json: ["amount": total, "transaction_id": reference], headers: [("Idempotency-Key", recordKey)], expected: [201]
                )
            }) else { return }
            if let payment = (recorded.json["payment"] as? [String: Any])?["id"] as? String {
                ledger.acknowledgePayment(paymentID: payment, invoiceID: invoiceID)
            }
        }
    }

    mutating func upload() async {
        let size = Int.random(in: 1024...32768, using: &generator)
        var bytes = [UInt8](repeating: 0, count: size)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        let sha = Self.sha256(bytes)
        let filename = "chaos-\(UUID().uuidString.lowercased()).bin"
        ledger.attemptUpload(.init(filename: filename, sha256: sha, size: size, acknowledgedID: nil))
        let headers = [("X-Upload-Filename", filename), ("Content-Type", "application/octet-stream")]
        guard let answer = await request(.upload, .POST, "/api/v1/files", headers: headers, body: bytes, expected: [201]).ok,
              let id = answer.json["id"] as? String
        else { return }
        ledger.acknowledgeUpload(filename: filename, id: id)
        uploads.append((id, sha))
    }

    /// Downloads one of this visitor's acknowledged uploads and checks its bytes.
    mutating func download() async {
        guard let file = uploads.randomElement(using: &generator) else { return await upload() }
        await request(.download, .GET, "/api/v1/files/\(file.id)/content", expected: [200], check: { answer in
            Self.sha256(answer.body) == file.sha256 ? nil : .corrupt
        })
    }

    /// A new customer registers and logs in (a small budget per run: registrations are rate limited per IP).
    mutating func newcomer() async {
        guard ledger.takeNewcomer() else { return await perform(.me) }
        var fresh = ChaosSession(http: session.http, baseURL: session.baseURL)
        let email = "chaos-new-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let password = "chaos newcomer \(UUID().uuidString.prefix(8))"
        // Every request comes from 127.0.0.1: a 429 is security.rate_limit.register_per_ip doing its job, not a failure.
        guard let registered = await request(.register, .POST, "/api/v1/auth/register", via: &fresh,
                                             json: ["email": email, "password": password, "name": "Chaos newcomer"],
                                             expected: [201, 429], authenticated: false).ok,
              registered.status == 201
        else { return }
        await request(.login, .POST, "/api/v1/auth/login", via: &fresh, json: ["email": email, "password": password], expected: [200], authenticated: false)
    }

    // MARK: Requests

    /// What one request ended with.
    struct Outcome {
        var answer: ChaosAnswer?
        var failure: FailureKind?
        /// The answer, when the request did not fail.
        var ok: ChaosAnswer? { failure == nil ? answer : nil }
    }

    /// Retries a write up to three times while it gets no answer or a 5xx, with the same key each time.
    mutating func retried(_ attempt: (inout Visitor) async -> Outcome) async -> ChaosAnswer? {
        for round in 0..<3 {
            if round > 0 {
                if ledger.isStopping { return nil }
                try? await Task.sleep(for: .milliseconds(300))
            }
            let outcome = await attempt(&self)
            guard let failure = outcome.failure else { return outcome.answer }
            // Only what a retry can cure is retried.
            guard [.connectRefused, .reset, .timeout, .serverError].contains(failure) else { return nil }
        }
        return nil
    }

    @discardableResult
    mutating func request(
        _ kind: RequestKind, _ method: HTTPMethod, _ path: String, json: [String: Any]? = nil, headers: [(String, String)] = [], body: [UInt8]? = nil,
        expected: Set<Int>, authenticated: Bool = true, check: (ChaosAnswer) -> FailureKind? = { _ in nil }
    ) async -> Outcome {
        var own = session
        defer { session = own }
        return await request(kind, method, path, via: &own, json: json, headers: headers, body: body, expected: expected, authenticated: authenticated, check: check)
    }

    /// Sends one request with `client`'s cookies and records it.
    @discardableResult
    func request(
        _ kind: RequestKind, _ method: HTTPMethod, _ path: String, via client: inout ChaosSession, json: [String: Any]? = nil, headers: [(String, String)] = [],
        body: [UInt8]? = nil, expected: Set<Int>, authenticated: Bool = true, check: (ChaosAnswer) -> FailureKind? = { _ in nil }
    ) async -> Outcome {
        let route = "\(method.rawValue) \(Self.template(path))"
        let started = ContinuousClock.now
        var status: Int?
        var failure: FailureKind?
        var answer: ChaosAnswer?
        do {
            let received = if let json {
                try await client.json(method, path, json, headers: headers)
            } else {
                try await client.send(method, path, headers: headers, body: body)
            }
            status = received.status
            failure = FailureKind.judge(status: received.status, location: received.header("Location"), expected: expected, authenticated: authenticated)
                ?? check(received)
            answer = received
        } catch {
            failure = FailureKind.classify(error)
        }
        let start = ledger.elapsed(started)
        ledger.record(RequestRecord(start: start, duration: ledger.elapsed() - start, kind: kind, route: route, status: status, failure: failure, visitor: index))
        return Outcome(answer: answer, failure: failure)
    }

    /// `/api/v1/invoices/4f…/pay?x=1` → `/api/v1/invoices/{id}/pay`.
    static func template(_ path: String) -> String {
        let bare = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        return bare.split(separator: "/", omittingEmptySubsequences: false).map { part in
            UUID(uuidString: String(part)) != nil ? "{id}" : String(part)
        }.joined(separator: "/")
    }

    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
