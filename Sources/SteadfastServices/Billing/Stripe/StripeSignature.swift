import Crypto
import Foundation

/// Stripe's webhook signature (`Stripe-Signature: t=<unix seconds>,v1=<hex>,v1=<hex>...`), as
/// pure code: the HMAC-SHA256 of `<t>.<raw body>` keyed with the endpoint's signing secret
/// (`billing.stripe.webhook_secret`). A header is accepted when its timestamp is within
/// `tolerance` of `now` (either side, against replays of old deliveries) and ANY of its `v1`
/// signatures matches (Stripe sends several while a secret is being rolled). The comparison is
/// constant-time. Other schemes (`v0`, test-mode extras) are ignored.
public struct StripeSignature: Sendable {
    /// Why a header was refused (each becomes a 400 naming `Stripe-Signature`).
    public enum Failure: Error, Sendable, Equatable {
        case missingHeader
        case malformedHeader
        case noSignature
        case outsideTolerance
        case mismatch

        public var message: String {
            switch self {
            case .missingHeader: "the Stripe-Signature header is missing"
            case .malformedHeader: "the Stripe-Signature header is not t=<timestamp>,v1=<signature>"
            case .noSignature: "the Stripe-Signature header has no v1 signature"
            case .outsideTolerance: "the Stripe-Signature timestamp is outside the tolerance window"
            case .mismatch: "no Stripe-Signature v1 signature matches the body"
            }
        }
    }

    /// Stripe's own libraries default to 300 s.
    public static let defaultTolerance: TimeInterval = 300

    let key: SymmetricKey
    public let tolerance: TimeInterval

    public init(secret: String, tolerance: TimeInterval = Self.defaultTolerance) {
        self.key = SymmetricKey(data: Data(secret.utf8))
        self.tolerance = tolerance
    }

    /// Checks `header` against `payload` (the raw request body, byte for byte) as of `now`.
    public func verify(header: String?, payload: [UInt8], now: Date) throws(Failure) {
        guard let header, !header.isEmpty else { throw .missingHeader }
        guard header.utf8.count <= 4096 else { throw .malformedHeader }
        var timestamp: Int64?
        var signatures: [[UInt8]] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { throw .malformedHeader }
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            let value = pair[1].trimmingCharacters(in: .whitespaces)
            switch name {
            case "t":
                guard timestamp == nil, let seconds = Int64(value), seconds >= 0 else { throw .malformedHeader }
                timestamp = seconds
            case "v1":
                // A v1 value that is not 64 hex digits cannot match; skip it rather than refuse
                // the others.
                if value.utf8.count == 64, let bytes = TestCardGateway.bytes(hex: value) { signatures.append(bytes) }
            default:
                continue
            }
        }
        guard let timestamp else { throw .malformedHeader }
        guard !signatures.isEmpty else { throw .noSignature }
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else { throw .outsideTolerance }
        let signed = Self.signedPayload(timestamp: timestamp, payload: payload)
        var matched = false
        // Every candidate is checked (no early exit), each in constant time.
        for signature in signatures where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
            matched = true
        }
        guard matched else { throw .mismatch }
    }

    /// The header Stripe would send for `payload` at `timestamp` (tests, and `steadfast` tools).
    public func header(payload: [UInt8], timestamp: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Self.signedPayload(timestamp: timestamp, payload: payload), using: key)
        return "t=\(timestamp),v1=\(APITokenService.hex(mac))"
    }

    static func signedPayload(timestamp: Int64, payload: [UInt8]) -> [UInt8] {
        Array("\(timestamp).".utf8) + payload
    }
}
