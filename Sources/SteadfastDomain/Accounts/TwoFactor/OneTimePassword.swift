#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HOTP (RFC 4226): a `digits`-long decimal code from a shared secret and a counter, HMAC-SHA1.
public enum HOTP {
    /// The code for `counter`, zero-padded to `digits` (6–8) characters.
    public static func code(secret: [UInt8], counter: UInt64, digits: Int = 6) -> String {
        precondition((6...8).contains(digits), "HOTP codes have 6 to 8 digits")
        let message = (0..<8).map { UInt8(truncatingIfNeeded: counter >> UInt64(56 - 8 * $0)) }
        let mac = SHA1.hmac(key: secret, message: message)
        let offset = Int(mac[19] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let number = String(binary % modulus)
        return String(repeating: "0", count: digits - number.count) + number
    }
}

/// TOTP (RFC 6238) with the parameters every authenticator app uses: HMAC-SHA1, 30-second
/// steps counted from the Unix epoch, 6 digits. Pure: the time is passed in.
public struct TOTP: Sendable, Equatable {
    /// Secrets are 160 bits, the length RFC 4226 recommends for HMAC-SHA1.
    public static let secretLength = 20
    public static let period: Int64 = 30
    public static let digits = 6
    /// Steps either side of the current one that are still accepted (clock skew between the
    /// phone and the node, and the time it takes to type the code).
    public static let skewSteps: Int64 = 1

    public let secret: [UInt8]

    public init(secret: [UInt8]) {
        self.secret = secret
    }

    /// A secret from its base32 text (`nil` when it is not base32 or shorter than 80 bits).
    public init?(base32 text: String) {
        guard let bytes = Base32.decode(text), bytes.count >= 10 else { return nil }
        self.secret = bytes
    }

    /// A new random secret.
    public static func generate<G: RandomNumberGenerator>(using generator: inout G) -> TOTP {
        TOTP(secret: (0..<secretLength).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public var base32Secret: String { Base32.encode(secret) }

    /// The time step holding `instant` (floor of seconds since the epoch / 30).
    public static func step(at instant: Date) -> Int64 {
        let seconds = Int64(instant.timeIntervalSince1970.rounded(.down))
        return seconds >= 0 ? seconds / period : (seconds - period + 1) / period
    }

    /// The code for time step `step`.
    public func code(step: Int64, digits: Int = TOTP.digits) -> String {
        HOTP.code(secret: secret, counter: UInt64(bitPattern: step), digits: digits)
    }

    /// The code shown at `instant`.
    public func code(at instant: Date) -> String {
        code(step: Self.step(at: instant))
    }

    /// What a typed code is worth at `now`, given the last step a code was accepted for (so a
    /// code, or any code of an earlier step, is accepted once: replay is refused).
    public func verify(_ typed: String, at now: Date, lastUsedStep: Int64?) -> TOTPVerification {
        let code = typed.filter { $0 != " " }
        guard code.count == Self.digits, code.allSatisfy(\.isASCIIDigit) else { return .malformed }
        let current = Self.step(at: now)
        // Newest first would accept the current step's code; order does not matter for
        // correctness since a code matches at most one step in practice.
        for step in (current - Self.skewSteps)...(current + Self.skewSteps) where constantTimeEquals(self.code(step: step), code) {
            if let lastUsedStep, step <= lastUsedStep { return .replayed }
            return .accepted(step: step)
        }
        return .wrong
    }

    /// The `otpauth://totp/` URI authenticator apps read from the QR code.
    public func provisioningURI(issuer: String, accountName: String) -> String {
        let label = Self.percentEncode(issuer) + ":" + Self.percentEncode(accountName)
        return "otpauth://totp/\(label)?secret=\(base32Secret)&issuer=\(Self.percentEncode(issuer))&algorithm=SHA1&digits=\(Self.digits)&period=\(Self.period)"
    }

    /// RFC 3986 unreserved characters kept, everything else %XX (UTF-8).
    static func percentEncode(_ text: String) -> String {
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF")
                output += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0x0F)])"
            }
        }
        return output
    }
}

/// The result of checking a TOTP code.
public enum TOTPVerification: Sendable, Equatable {
    /// Right code for `step`, which is newer than any step used before: record `step`.
    case accepted(step: Int64)
    /// Right code, but its step (or a later one) was already used.
    case replayed
    /// Not the code for any step in the window.
    case wrong
    /// Not six digits.
    case malformed
}

/// Compares two strings without stopping at the first difference.
func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var difference: UInt8 = 0
    for i in x.indices { difference |= x[i] ^ y[i] }
    return difference == 0
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
