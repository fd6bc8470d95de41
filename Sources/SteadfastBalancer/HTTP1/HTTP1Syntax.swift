/// The byte classes of HTTP/1.1 (RFC 9110 §5.6, RFC 9112), as cheap predicates for the parsers.
enum HTTP1Syntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")
    static let equals = UInt8(ascii: "=")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let comma = UInt8(ascii: ",")

    /// `tchar` for bytes 0–63 and 64–127 as bit masks: ``!#$%&'*+-.^_`|~``, digits, letters.
    private static let tokenMaskLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    /// `tchar`: the characters of a method, a field name or a chunk extension name.
    @inline(__always)
    static func isTokenChar(_ byte: UInt8) -> Bool {
        if byte < 64 { return tokenMaskLow & (1 << UInt64(byte)) != 0 }
        if byte < 128 { return tokenMaskHigh & (1 << UInt64(byte &- 64)) != 0 }
        return false
    }

    /// A byte allowed inside a field value: `VCHAR`, `obs-text`, `SP` and `HTAB` (no other
    /// control character, no DEL; CR and LF only end a line).
    @inline(__always)
    static func isFieldValueChar(_ byte: UInt8) -> Bool {
        (byte >= 0x20 && byte != 0x7F) || byte == tab
    }

    /// A byte allowed in a request target: visible ASCII and `obs-text` (never a space or a
    /// control character).
    @inline(__always)
    static func isTargetChar(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte != 0x7F
    }

    /// `qdtext` of a quoted string (RFC 9110 §5.6.4).
    @inline(__always)
    static func isQuotedTextChar(_ byte: UInt8) -> Bool {
        byte == tab || byte == space || byte == 0x21 || (byte >= 0x23 && byte <= 0x5B) || (byte >= 0x5D && byte <= 0x7E) || byte >= 0x80
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// The value of a hexadecimal digit, or `nil`.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): Int(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): Int(byte &- UInt8(ascii: "A") &+ 10)
        default: nil
        }
    }

    /// Whether `bytes[range]` equals `lowercase` ignoring ASCII case. `lowercase` must consist of
    /// lowercase letters, digits and `-` only (then `| 0x20` folds exactly the letters).
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lowercase: StaticString) -> Bool {
        guard range.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        var index = 0
        for offset in range {
            if bytes[offset] | 0x20 != expected[index] { return false }
            index &+= 1
        }
        return true
    }

    /// Whether two byte ranges are equal ignoring ASCII case (for field names, which are tokens).
    static func tokensEqualIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ a: Range<Int>, _ other: UnsafeRawBufferPointer, _ b: Range<Int>) -> Bool {
        guard a.count == b.count else { return false }
        var j = b.lowerBound
        for i in a {
            let x = bytes[i]
            let y = other[j]
            if x != y {
                let lx = (x >= 0x41 && x <= 0x5A) ? x | 0x20 : x
                let ly = (y >= 0x41 && y <= 0x5A) ? y | 0x20 : y
                if lx != ly { return false }
            }
            j &+= 1
        }
        return true
    }
}
