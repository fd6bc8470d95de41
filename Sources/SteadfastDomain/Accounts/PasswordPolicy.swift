/// The rules a new password must meet.
///
/// Length is measured in UTF-8 bytes at the top because bcrypt only uses the first 72 bytes: a
/// longer password would silently be truncated, so it is refused instead.
public struct PasswordPolicy: Sendable {
    /// Fewest characters accepted.
    public var minimumLength: Int
    /// Most UTF-8 bytes accepted (bcrypt's limit).
    public var maximumBytes: Int

    public init(minimumLength: Int = 10, maximumBytes: Int = 72) {
        self.minimumLength = minimumLength
        self.maximumBytes = maximumBytes
    }

    /// A few of the most common passwords, refused outright whatever their length.
    static let commonPasswords: Set<String> = [
        "password", "password1", "password12", "password123", "password1234", "passw0rd", "qwerty", "qwertyuiop",
        "123456", "1234567890", "12345678", "123456789", "1234567890a", "letmein", "iloveyou", "admin",
        "administrator", "welcome", "welcome1", "welcome123", "changeme", "abc123", "abcdefghij", "monkey",
        "dragon", "football", "baseball", "sunshine", "princess", "trustno1", "0123456789", "1q2w3e4r5t",
        "qwerty123", "qwerty1234", "whmcs", "steadfast", "hosting", "hosting123",
    ]

    /// Checks `password` for an account with e-mail `email`; throws `AccountError.weakPassword`
    /// naming the first rule it breaks.
    public func validate(_ password: String, email: EmailAddress? = nil) throws(AccountError) {
        if password.count < minimumLength {
            throw .weakPassword("password must be at least \(minimumLength) characters long")
        }
        if password.utf8.count > maximumBytes {
            throw .weakPassword("password must be at most \(maximumBytes) bytes long")
        }
        if password.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw .weakPassword("password must not contain a NUL character")
        }
        let lowered = password.lowercased()
        if Self.commonPasswords.contains(lowered) {
            throw .weakPassword("password is too common")
        }
        if Set(password).count < 4 {
            throw .weakPassword("password must use at least 4 different characters")
        }
        if let email, lowered == email.normalized || lowered == email.normalized.split(separator: "@").first.map(String.init) {
            throw .weakPassword("password must not be your e-mail address")
        }
    }
}
