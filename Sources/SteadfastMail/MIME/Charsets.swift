import Foundation

/// Text in the charsets mail arrives in, decoded to Swift strings without Foundation's
/// platform-dependent encodings: UTF-8, US-ASCII, ISO-8859-1, ISO-8859-15 and Windows-1252.
public enum Charsets {
    /// Decodes `bytes` labelled `charset` (case-insensitive, aliases accepted); `nil` for a charset
    /// this does not know. Invalid UTF-8 becomes U+FFFD, never an error.
    public static func decode(_ bytes: [UInt8], charset: String) -> String? {
        switch charset.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: " \"'")) {
        case "utf-8", "utf8", "":
            return String(decoding: bytes, as: UTF8.self)
        case "us-ascii", "ascii", "ansi_x3.4-1968":
            // Mislabelled 8-bit text is common: read it as Windows-1252 rather than lose it.
            return bytes.allSatisfy({ $0 < 0x80 }) ? String(decoding: bytes, as: UTF8.self) : decodeSingleByte(bytes, high: windows1252High)
        case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case "iso-8859-15", "iso8859-15", "latin-9", "latin9":
            return decodeSingleByte(bytes) { byte in
                switch byte {
                case 0xA4: 0x20AC
                case 0xA6: 0x0160
                case 0xA8: 0x0161
                case 0xB4: 0x017D
                case 0xB8: 0x017E
                case 0xBC: 0x0152
                case 0xBD: 0x0153
                case 0xBE: 0x0178
                default: UInt32(byte)
                }
            }
        case "windows-1252", "cp1252", "x-cp1252":
            return decodeSingleByte(bytes, high: windows1252High)
        default:
            return nil
        }
    }

    static func decodeSingleByte(_ bytes: [UInt8], high: (UInt8) -> UInt32) -> String {
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            scalars.append(Unicode.Scalar(byte < 0x80 ? UInt32(byte) : high(byte)) ?? "\u{FFFD}")
        }
        return String(scalars)
    }

    /// Windows-1252: ISO-8859-1 except 0x80–0x9F, which hold typographic characters.
    static func windows1252High(_ byte: UInt8) -> UInt32 {
        let table: [UInt32] = [
            0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
            0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
        ]
        return (0x80...0x9F).contains(byte) ? table[Int(byte - 0x80)] : UInt32(byte)
    }
}
