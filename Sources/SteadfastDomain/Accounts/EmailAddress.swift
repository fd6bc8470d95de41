/// An e-mail address that has passed validation, kept in the form the user typed and in a
/// normalised (lower-cased, trimmed) form used for uniqueness and look-up.
///
/// Validation is deliberately practical rather than RFC 5322-complete: one `@`, a non-empty
/// local part, a domain with at least one dot, no spaces or control characters, at most 254
/// characters — what a hosting provider can actually deliver mail to.
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address as entered (trimmed).
    public let value: String
    /// The lower-cased address; two accounts may never share it.
    public let normalized: String

    public init(_ raw: String) throws(AccountError) {
        let trimmed = raw.trimmingASCIIWhitespace()
        guard !trimmed.isEmpty else { throw .invalidEmail("e-mail address is required") }
        guard trimmed.utf8.count <= 254 else { throw .invalidEmail("e-mail address is longer than 254 characters") }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .invalidEmail("e-mail address must look like name@example.com")
        }
        let local = parts[0]
        let domain = parts[1]
        guard local.utf8.count <= 64 else { throw .invalidEmail("the part before @ is longer than 64 characters") }
        for scalar in trimmed.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F || scalar == "<" || scalar == ">" || scalar == "," || scalar == ";"
                || scalar == "\"" || scalar == "\\" || scalar == "(" || scalar == ")" || scalar == "[" || scalar == "]"
            {
                throw .invalidEmail("e-mail address contains a character that is not allowed")
            }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else {
            throw .invalidEmail("e-mail domain must look like example.com")
        }
        self.value = trimmed
        self.normalized = trimmed.lowercased()
    }

    public var description: String { value }
}

extension String {
    /// The string without leading and trailing ASCII spaces, tabs and line breaks.
    func trimmingASCIIWhitespace() -> String {
        // "\r\n" is one Character (a grapheme cluster), equal to neither "\r" nor "\n".
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
