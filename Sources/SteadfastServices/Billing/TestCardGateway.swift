import Crypto
import Foundation
import SteadfastDomain

/// The test card gateway: a simulated card provider for development, demos and tests.
///
/// - Direct charges: paying with a `card_token` charges at once. `tok_visa` and
///   `tok_mastercard` succeed; `tok_declined` is declined. No card number ever reaches Steadfast.
/// - Checkouts: paying without a token opens a pending checkout; the "provider" later calls
///   `POST /api/v1/gateways/testcard/webhook` with a JSON ``Event`` and the header
///   `X-Signature: sha256=<hex HMAC-SHA256 of the raw body with the gateway secret>`.
public struct TestCardGateway: Sendable {
    public static let name = "testcard"

    /// A webhook notification from the provider.
    public struct Event: Codable, Sendable, Equatable {
        /// `payment.succeeded` or `payment.failed`.
        public var type: String
        public var checkoutID: String
        /// The provider's id of the charge: the payment's unique key.
        public var transactionID: String
        public var amount: Int64
        public var currency: String

        enum CodingKeys: String, CodingKey {
            case type, amount, currency
            case checkoutID = "checkout_id"
            case transactionID = "transaction_id"
        }

        public init(type: String, checkoutID: String, transactionID: String, amount: Int64, currency: String) {
            self.type = type
            self.checkoutID = checkoutID
            self.transactionID = transactionID
            self.amount = amount
            self.currency = currency
        }
    }

    let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: Data(secret.utf8))
    }

    /// `sha256=<hex>` for `body`.
    public func signature(for body: [UInt8]) -> String {
        "sha256=" + APITokenService.hex(HMAC<SHA256>.authenticationCode(for: body, using: key))
    }

    /// Whether `header` is the signature of `body` (constant-time comparison).
    public func isValid(signature header: String?, body: [UInt8]) -> Bool {
        guard let header, header.hasPrefix("sha256="), let mac = Self.bytes(hex: String(header.dropFirst(7))) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key)
    }

    /// A signed notification, as the provider would send it.
    public func signedEvent(_ event: Event) throws -> (body: [UInt8], signature: String) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let body = Array(try encoder.encode(event))
        return (body, signature(for: body))
    }

    /// The simulated provider's answer to charging `token`: a transaction id, or a decline.
    static func charge(token: String) throws(BillingError) -> String {
        switch token {
        case "tok_visa", "tok_mastercard": return newTransactionID()
        case "tok_declined": throw BillingError(.paymentDeclined, "the card was declined", field: "card_token")
        default: throw BillingError.invalid("unknown card token (the test gateway knows tok_visa, tok_mastercard and tok_declined)", field: "card_token")
        }
    }

    static func newTransactionID() -> String {
        "tc_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    static func bytes(hex: String) -> [UInt8]? {
        guard hex.count % 2 == 0, hex.count <= 128 else { return nil }
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}
