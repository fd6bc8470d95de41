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
    /// A profile field is too long or holds control characters.
    case invalidProfile(field: String, String)
    /// The current password given to change it is wrong.
    case wrongCurrentPassword
    /// A reset or verification link that is unknown, used, or expired (never saying which).
    case invalidToken
    /// A two-factor code (TOTP or recovery) that is wrong, malformed or already used.
    case invalidSecondFactor
    /// Two-factor log-in is already on (enrol again after turning it off).
    case twoFactorAlreadyEnabled
    /// Two-factor log-in is not on, or not being set up.
    case twoFactorNotEnabled
    /// `accounts.require_verified_email` is on and the address is not confirmed yet.
    case emailNotVerified

    /// A message for the user.
    public var message: String {
        switch self {
        case .invalidEmail(let why), .weakPassword(let why), .invalidName(let why): why
        case .duplicateEmail: "an account with this e-mail address already exists"
        case .invalidCredentials: "e-mail address or password is incorrect"
        case .invalidProfile(_, let why): why
        case .wrongCurrentPassword: "the current password is incorrect"
        case .invalidToken: "this link is invalid or has expired; ask for a new one"
        case .invalidSecondFactor: "the code is incorrect or was already used"
        case .twoFactorAlreadyEnabled: "two-factor log-in is already on"
        case .twoFactorNotEnabled: "two-factor log-in is not being set up"
        case .emailNotVerified: "confirm your e-mail address (follow the link we sent you) before ordering"
        }
    }

    /// The request field the error is about, when there is one.
    public var field: String? {
        switch self {
        case .invalidEmail, .duplicateEmail: "email"
        case .weakPassword: "password"
        case .invalidName: "name"
        case .invalidProfile(let field, _): field
        case .wrongCurrentPassword: "current_password"
        case .invalidToken: "token"
        case .invalidSecondFactor: "code"
        case .invalidCredentials, .twoFactorAlreadyEnabled, .twoFactorNotEnabled, .emailNotVerified: nil
        }
    }

    /// A stable machine-readable code for API answers.
    public var code: String {
        switch self {
        case .invalidEmail: "invalid_email"
        case .weakPassword: "weak_password"
        case .invalidName: "invalid_name"
        case .duplicateEmail: "duplicate_email"
        case .invalidCredentials: "invalid_credentials"
        case .invalidProfile: "invalid_profile"
        case .wrongCurrentPassword: "wrong_current_password"
        case .invalidToken: "invalid_token"
        case .invalidSecondFactor: "invalid_code"
        case .twoFactorAlreadyEnabled: "two_factor_already_enabled"
        case .twoFactorNotEnabled: "two_factor_not_enabled"
        case .emailNotVerified: "email_not_verified"
        }
    }
}
