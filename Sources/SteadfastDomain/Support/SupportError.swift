/// Why a support operation was refused. One error type for the support concern (tickets,
/// messages, attachments, departments); the web edge maps ``Kind`` to an HTTP status.
///
/// Messages are written for the person who made the request; `field` names the request field
/// at fault when there is one.
public struct SupportError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The input is malformed or out of range (400).
        case invalid
        /// Staff only (403); a client never learns more than that.
        case forbidden
        /// The object does not exist or the caller may not see it (404).
        case notFound
        /// The request conflicts with the current state, e.g. closing a closed ticket (409).
        case conflict
        /// A file or a message's files are larger than allowed (413).
        case tooLarge
        /// A file's name or content is of a type that is not accepted (415).
        case unsupportedType
        /// File storage did not answer; nothing was recorded (503).
        case storageUnavailable
    }

    public let kind: Kind
    public let message: String
    public let field: String?

    public init(_ kind: Kind, _ message: String, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
    }

    public var description: String {
        "support error (\(kind.rawValue)): \(message)" + (field.map { " [field: \($0)]" } ?? "")
    }

    public static func invalid(_ message: String, field: String? = nil) -> SupportError { SupportError(.invalid, message, field: field) }
    public static func notFound(_ what: String) -> SupportError { SupportError(.notFound, "\(what) not found") }
}
