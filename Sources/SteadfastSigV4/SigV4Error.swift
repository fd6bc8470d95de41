/// The one error type of `SteadfastSigV4`: a request that cannot be signed as given.
///
/// The message names what is wrong with the request; it never contains a key or a signature.
public struct SigV4Error: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// The URL has no host, or is not absolute.
        case invalidURL
        /// The presigned URL's lifetime is outside 1 s ... 7 days (AWS's limits).
        case invalidExpiry
    }

    /// What went wrong.
    public let kind: Kind
    /// A sentence for a human.
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "SigV4Error.\(kind): \(message)" }
}
