import Foundation

/// A number of bytes in configuration: an integer, or a string such as `"16 MiB"`, `"8MB"`,
/// `"1GiB"` (KiB/MiB/GiB are powers of 1024, KB/MB/GB of 1000).
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

    /// Parses `"16 MiB"` and friends; nil when not a size.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard let value = Int64(digits) else { return nil }
        let multipliers: [String: Int64] = [
            "": 1, "b": 1, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
            "kb": 1_000, "mb": 1_000_000, "gb": 1_000_000_000, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30,
        ]
        guard let multiplier = multipliers[unit] else { return nil }
        let (result, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : result
    }
}
