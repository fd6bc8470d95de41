/// One HTTP header field, as given to and returned by ``SigV4Signer``.
public struct SigV4Header: Sendable, Hashable {
    /// The field name, in the case the caller wants to send it (signing lowercases a copy).
    public var name: String
    /// The field value, as sent.
    public var value: String

    /// Creates a header field.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
