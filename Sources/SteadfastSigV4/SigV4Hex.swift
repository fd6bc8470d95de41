/// Lowercase hexadecimal, as SigV4 writes hashes and signatures.
public enum SigV4Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hex of the given bytes.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
