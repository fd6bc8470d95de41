import HTTPTypes
import Hummingbird
import NIOCore
import SteadfastServices

/// The idempotent operations' side of the billing API: the `Idempotency-Key` a client sends and
/// the stored answer it gets back, byte for byte, on the original and every replay (marked
/// `Idempotent-Replayed: true`). Everything else is encoded and decoded by the request context
/// (``PortalJSONEncoder``, ``PortalJSONDecoder``).
enum BillingJSON {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    /// The answer of an idempotent operation (identical for the original and every replay).
    static func idempotent<T>(_ result: IdempotentResult<T>, status: HTTPResponse.Status = .ok) -> Response {
        PortalJSONEncoder.response(ByteBuffer(string: result.json), status: status, headers: result.replayed ? [Self.replayed: "true"] : [:])
    }
}
