import Foundation

extension UUID {
    /// Parses the canonical 36-character form (`8-4-4-4-12` hex digits, either case) without
    /// Foundation's `UUID(uuidString:)`, which goes through `sscanf` and showed up in the profile
    /// of every page (each row carries several ids). Anything else falls back to Foundation.
    static func canonical(_ text: String) -> UUID? {
        let utf8 = text.utf8
        guard utf8.count == 36 else { return UUID(uuidString: text) }
        return utf8.withContiguousStorageIfAvailable(parse) ?? {
            let copy = Array(utf8)
            return copy.withUnsafeBufferPointer(parse)
        }()
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> UUID? {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let parsed = withUnsafeMutableBytes(of: &value) { out -> Bool in
            var index = 0
            for position in [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34] {
                guard let high = nibble(bytes[position]), let low = nibble(bytes[position + 1]) else { return false }
                out[index] = high << 4 | low
                index += 1
            }
            return bytes[8] == 0x2D && bytes[13] == 0x2D && bytes[18] == 0x2D && bytes[23] == 0x2D
        }
        return parsed ? UUID(uuid: value) : nil
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
