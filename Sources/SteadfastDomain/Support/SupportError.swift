/// Why a support operation was refused. One error type for the support concern (tickets,
/// messages, attachments, departments); the web edge maps ``SupportErrorKind`` to an HTTP
/// status. The shape (kind, message, field) is the domain's one ``DomainError``.
public typealias SupportError = DomainError<SupportErrorKind>

/// The class of a support failure.
public enum SupportErrorKind: String, DomainErrorKind {
    public static let concern = "support"

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
