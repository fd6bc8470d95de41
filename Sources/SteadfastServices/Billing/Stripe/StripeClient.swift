import Foundation
import SteadfastDomain

/// How the Stripe client reaches the API: one HTTP exchange. The node's implementation is
/// AsyncHTTPClient (`StripeHTTPTransport` in SteadfastWeb); a thrown error means the provider
/// could not be reached.
public protocol StripeTransport: Sendable {
    func send(method: String, url: String, headers: [(String, String)], body: [UInt8]?) async throws -> (status: Int, body: [UInt8])
}

/// A small, typed client for the parts of Stripe's HTTP API the portal uses: customers,
/// PaymentIntents, SetupIntents, refunds and charges. Requests are form-encoded
/// (`application/x-www-form-urlencoded`, nested keys as `metadata[invoice_id]`), authenticated
/// with the secret key as HTTP Basic user, and every POST carries an `Idempotency-Key`, so a
/// request retried after a timeout or from another node is the same request to Stripe.
///
/// Errors become ``GatewayError``: a card error (HTTP 402, `type=card_error` or
/// `code=card_declined`) is `.declined`; 429, 5xx and unreachable are `.unavailable`; any other
/// refusal is `.rejected`. The secret key is never logged or put in an error.
public struct StripeClient: Sendable {
    public let apiBase: String
    let secretKey: String
    let transport: any StripeTransport

    public init(apiBase: String, secretKey: String, transport: any StripeTransport) {
        self.apiBase = apiBase.hasSuffix("/") ? String(apiBase.dropLast()) : apiBase
        self.secretKey = secretKey
        self.transport = transport
    }

    // MARK: Typed results

    public struct Customer: Decodable, Sendable, Equatable {
        public let id: String
    }

    public struct PaymentIntent: Decodable, Sendable, Equatable {
        public let id: String
        public let status: String
        public let amount: Int64
        public let currency: String
        public let clientSecret: String?
        public let customer: String?
        public let paymentMethod: String?
        public let metadata: [String: String]?
        public let lastPaymentError: LastError?

        public struct LastError: Decodable, Sendable, Equatable {
            public let message: String?
            public let code: String?
        }

        enum CodingKeys: String, CodingKey {
            case id, status, amount, currency, customer, metadata
            case clientSecret = "client_secret"
            case paymentMethod = "payment_method"
            case lastPaymentError = "last_payment_error"
        }
    }

    public struct Refund: Decodable, Sendable, Equatable {
        public let id: String
        public let amount: Int64
        public let currency: String
        public let status: String?
        public let charge: String?
        public let paymentIntent: String?

        enum CodingKeys: String, CodingKey {
            case id, amount, currency, status, charge
            case paymentIntent = "payment_intent"
        }
    }

    public struct Charge: Decodable, Sendable, Equatable {
        public let id: String
        public let amount: Int64
        public let amountRefunded: Int64
        public let currency: String
        public let paymentIntent: String?

        enum CodingKeys: String, CodingKey {
            case id, amount, currency
            case amountRefunded = "amount_refunded"
            case paymentIntent = "payment_intent"
        }
    }

    public struct SetupIntent: Decodable, Sendable, Equatable {
        public let id: String
        public let status: String
        public let clientSecret: String?
        public let customer: String?
        public let paymentMethod: String?

        enum CodingKeys: String, CodingKey {
            case id, status, customer
            case clientSecret = "client_secret"
            case paymentMethod = "payment_method"
        }
    }

    /// A saved card (or other method); `card` is what the portal shows: never the number.
    public struct PaymentMethod: Decodable, Sendable, Equatable {
        public let id: String
        public let customer: String?
        public let card: Card?

        public struct Card: Decodable, Sendable, Equatable {
            public let brand: String
            public let last4: String
            public let expMonth: Int
            public let expYear: Int

            enum CodingKeys: String, CodingKey {
                case brand, last4
                case expMonth = "exp_month"
                case expYear = "exp_year"
            }
        }
    }

    /// One page of a list answer.
    public struct List<Item: Decodable & Sendable>: Decodable, Sendable {
        public let data: [Item]
        public let hasMore: Bool?

        enum CodingKeys: String, CodingKey {
            case data
            case hasMore = "has_more"
        }
    }

    // MARK: Calls

    public func createCustomer(clientID: UUID, email: String?, idempotencyKey: String) async throws -> Customer {
        var form: [(String, String)] = [("metadata[client_id]", clientID.uuidString.lowercased())]
        if let email { form.append(("email", email)) }
        return try await post("/v1/customers", form, idempotencyKey: idempotencyKey)
    }

    /// Creates a PaymentIntent; with `confirm` and a payment method it is charged at once
    /// (`offSession`: the client is not there, for saved cards).
    public func createPaymentIntent(
        amount: Money, customer: String?, paymentMethod: String?, confirm: Bool, offSession: Bool = false, metadata: [String: String],
        idempotencyKey: String
    ) async throws -> PaymentIntent {
        var form: [(String, String)] = [("amount", String(amount.minorUnits)), ("currency", amount.currency.code.lowercased())]
        if let customer { form.append(("customer", customer)) }
        if let paymentMethod { form.append(("payment_method", paymentMethod)) }
        if confirm { form.append(("confirm", "true")) }
        if offSession { form.append(("off_session", "true")) }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { form.append(("metadata[\(key)]", value)) }
        return try await post("/v1/payment_intents", form, idempotencyKey: idempotencyKey)
    }

    public func confirmPaymentIntent(id: String, idempotencyKey: String) async throws -> PaymentIntent {
        try await post("/v1/payment_intents/\(try Self.pathComponent(id))/confirm", [], idempotencyKey: idempotencyKey)
    }

    public func paymentIntent(id: String) async throws -> PaymentIntent {
        try await get("/v1/payment_intents/\(try Self.pathComponent(id))")
    }

    public func charge(id: String) async throws -> Charge {
        try await get("/v1/charges/\(try Self.pathComponent(id))")
    }

    /// Refunds `amount` (everything left when `nil`) of a PaymentIntent's charge.
    public func createRefund(paymentIntent: String, amount: Int64?, idempotencyKey: String) async throws -> Refund {
        var form: [(String, String)] = [("payment_intent", paymentIntent)]
        if let amount { form.append(("amount", String(amount))) }
        return try await post("/v1/refunds", form, idempotencyKey: idempotencyKey)
    }

    public func createSetupIntent(customer: String, idempotencyKey: String) async throws -> SetupIntent {
        try await post("/v1/setup_intents", [("customer", customer), ("usage", "off_session")], idempotencyKey: idempotencyKey)
    }

    public func setupIntent(id: String) async throws -> SetupIntent {
        try await get("/v1/setup_intents/\(try Self.pathComponent(id))")
    }

    public func paymentMethod(id: String) async throws -> PaymentMethod {
        try await get("/v1/payment_methods/\(try Self.pathComponent(id))")
    }

    public func attachPaymentMethod(id: String, customer: String, idempotencyKey: String) async throws -> PaymentMethod {
        try await post("/v1/payment_methods/\(try Self.pathComponent(id))/attach", [("customer", customer)], idempotencyKey: idempotencyKey)
    }

    public func detachPaymentMethod(id: String, idempotencyKey: String) async throws -> PaymentMethod {
        try await post("/v1/payment_methods/\(try Self.pathComponent(id))/detach", [], idempotencyKey: idempotencyKey)
    }

    /// A customer's charges created after `createdAfter` (newest first, at most 100): how a
    /// capture attempt whose answer was lost finds what Stripe did (each charge names its
    /// PaymentIntent, whose metadata names the invoice and attempt).
    public func charges(customer: String, createdAfter: Date) async throws -> [Charge] {
        let query = Self.formEncode([
            ("customer", customer), ("created[gt]", String(Int64(createdAfter.timeIntervalSince1970))), ("limit", "100"),
        ])
        let list: List<Charge> = try await get("/v1/charges?\(query)")
        return list.data
    }

    // MARK: Wire

    /// `application/x-www-form-urlencoded`: everything but unreserved characters percent-encoded
    /// (brackets too, as Stripe's own libraries do).
    public static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Stripe ids are `[A-Za-z0-9_]`; anything else never reaches a URL path.
    static func pathComponent(_ id: String) throws(GatewayError) -> String {
        guard !id.isEmpty, id.utf8.count <= 255, id.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw GatewayError(.rejected, "'\(id.prefix(40))' is not a Stripe id")
        }
        return id
    }

    var authorization: String {
        "Basic " + Data("\(secretKey):".utf8).base64EncodedString()
    }

    func post<T: Decodable>(_ path: String, _ form: [(String, String)], idempotencyKey: String) async throws -> T {
        let headers = [
            ("Authorization", authorization), ("Content-Type", "application/x-www-form-urlencoded"), ("Idempotency-Key", idempotencyKey),
            ("Accept", "application/json"),
        ]
        return try await exchange("POST", path, headers: headers, body: Array(Self.formEncode(form).utf8))
    }

    func get<T: Decodable>(_ path: String) async throws -> T {
        try await exchange("GET", path, headers: [("Authorization", authorization), ("Accept", "application/json")], body: nil)
    }

    private func exchange<T: Decodable>(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]?) async throws -> T {
        let answer: (status: Int, body: [UInt8])
        do {
            answer = try await transport.send(method: method, url: apiBase + path, headers: headers, body: body)
        } catch {
            throw GatewayError(.unavailable, "Stripe could not be reached: \(type(of: error))")
        }
        guard (200..<300).contains(answer.status) else { throw Self.error(status: answer.status, body: answer.body) }
        do {
            return try JSONDecoder().decode(T.self, from: Data(answer.body))
        } catch {
            throw GatewayError(.rejected, "Stripe's answer to \(method) \(path) could not be read")
        }
    }

    struct ErrorBody: Decodable {
        struct Detail: Decodable {
            let type: String?
            let code: String?
            let message: String?
            let declineCode: String?

            enum CodingKeys: String, CodingKey {
                case type, code, message
                case declineCode = "decline_code"
            }
        }
        let error: Detail
    }

    /// Maps a Stripe error answer to a ``GatewayError``.
    static func error(status: Int, body: [UInt8]) -> GatewayError {
        let detail = (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error
        let message = String((detail?.message ?? "Stripe answered HTTP \(status)").prefix(300))
        let code = detail?.declineCode ?? detail?.code
        if status == 402 || detail?.type == "card_error" || detail?.code == "card_declined" {
            return GatewayError(.declined, message, code: code)
        }
        if status == 429 || status >= 500 {
            return GatewayError(.unavailable, message, code: code)
        }
        return GatewayError(.rejected, message, code: code)
    }
}
