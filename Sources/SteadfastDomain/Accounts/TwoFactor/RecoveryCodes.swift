/// Single-use recovery codes for when the authenticator is lost: ten codes of ten base32
/// characters (50 random bits each), shown once as `xxxxx-xxxxx`, stored only hashed.
public enum RecoveryCodes {
    public static let count = 10
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")

    /// New codes, formatted for showing.
    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> [String] {
        (0..<count).map { _ in
            let characters = (0..<10).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            return String(characters[0..<5]) + "-" + String(characters[5...])
        }
    }

    /// The canonical form a typed code is hashed in (lower case, no spaces or hyphens), or
    /// `nil` when it cannot be a recovery code.
    public static func normalize(_ typed: String) -> String? {
        let code = typed.lowercased().filter { $0 != " " && $0 != "-" }
        guard code.count == 10, code.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return code
    }
}
