/// The classes of failure of one concern of the domain (billing, support): its `Kind` enum,
/// whose raw values name it in messages and logs, and the concern's name.
///
/// Every concern has at least the three refusals every use case needs; the web edge maps each
/// concern's kinds to HTTP statuses and branches on them, never on messages.
public protocol DomainErrorKind: RawRepresentable, Sendable, Equatable where RawValue == String {
    /// The concern's name in ``DomainError/description`` ("billing", "support").
    static var concern: String { get }
    /// The input is malformed or out of range (400).
    static var invalid: Self { get }
    /// The object does not exist or the caller may not see it (404).
    static var notFound: Self { get }
    /// The request conflicts with the current state (409).
    static var conflict: Self { get }
}

/// Why an operation of one concern was refused: the one error shape of the domain's concerns
/// (``BillingError``, ``SupportError``), generic over the concern's ``DomainErrorKind``.
///
/// Messages are written for the person who made the request and never contain card data,
/// secrets or SQL; `field` names the request field at fault when there is one.
public struct DomainError<Kind: DomainErrorKind>: Error, Sendable, Equatable, CustomStringConvertible {
    public let kind: Kind
    public let message: String
    public let field: String?

    public init(_ kind: Kind, _ message: String, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
    }

    public var description: String {
        "\(Kind.concern) error (\(kind.rawValue)): \(message)" + (field.map { " [field: \($0)]" } ?? "")
    }

    public static func invalid(_ message: String, field: String? = nil) -> Self { Self(.invalid, message, field: field) }
    public static func notFound(_ what: String) -> Self { Self(.notFound, "\(what) not found") }
    public static func conflict(_ message: String, field: String? = nil) -> Self { Self(.conflict, message, field: field) }
}
