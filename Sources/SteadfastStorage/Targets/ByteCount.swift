import Foundation

/// A number of bytes in configuration: an integer, or a string such as `"16 MiB"`, `"8MB"`,
/// `"1GiB"` (KiB/MiB/GiB and K/M/G are powers of 1024, KB/MB/GB of 1000). ``parse(_:)`` is the
/// one byte-size grammar: the storage targets' sizes and the node's size keys
/// (`http.max_body_size`, `storage.max_upload_size`, ...) both read through it.
public struct ByteCount: Decodable, Sendable, Hashable {
    /// The number of bytes.
    public var bytes: Int64

    /// Creates a count.
    public init(bytes: Int64) { self.bytes = bytes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            self.bytes = number
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = Self.parse(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a byte size (examples: 16777216, \"16 MiB\", \"8MB\")")
        }
        self.bytes = parsed
    }

    /// Parses `"16 MiB"` and friends; nil when not a size. A whole number (an optional `+`),
    /// then an optional unit: B, KiB, MiB, GiB, K, M, G, KB, MB, GB, in any case; spaces and tabs
    /// anywhere are ignored (`"1 048 576"`, `" 8 mb "`).
    public static func parse(_ text: String) -> Int64? {
        var compact = String.UnicodeScalarView()
        compact.append(contentsOf: text.unicodeScalars.filter { !CharacterSet.whitespaces.contains($0) })
        let lower = String(compact).lowercased()
        let digits = lower.prefix { $0 == "+" || ($0.isASCII && $0.isNumber) }
        let unit = String(lower.dropFirst(digits.count))
        guard let value = Int64(digits), value >= 0 else { return nil }
        let multipliers: [String: Int64] = [
            "": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
            "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let (result, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : result
    }
}
