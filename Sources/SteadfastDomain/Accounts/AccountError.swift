/// Why an account operation was refused. Messages are safe to show to the person who made the
/// request: they never say whether an e-mail address exists when credentials are wrong.
public enum AccountError: Error, Sendable, Equatable {
    /// The e-mail address is not acceptable; the message says why.
    case invalidEmail(String)
    /// The password does not meet the policy; the message says why.
    case weakPassword(String)
    /// The display name is missing or too long; the message says why.
    case invalidName(String)
    /// Another account already uses this e-mail address.
    case duplicateEmail
    /// E-mail and password do not match an active account (deliberately not saying which).
    case invalidCredentials

    /// A message for the user.
    public var message: String {
        switch self {
        case .invalidEmail(let why), .weakPassword(let why), .invalidName(let why): why
        case .duplicateEmail: "an account with this e-mail address already exists"
        case .invalidCredentials: "e-mail address or password is incorrect"
        }
    }

    /// The request field the error is about, when there is one.
    public var field: String? {
        switch self {
        case .invalidEmail, .duplicateEmail: "email"
        case .weakPassword: "password"
        case .invalidName: "name"
        case .invalidCredentials: nil
        }
    }
}
