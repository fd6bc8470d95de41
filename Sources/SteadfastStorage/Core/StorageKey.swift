import Foundation

/// The rules every object key follows, on every backend, so a key valid on S3 is valid on a
/// NAS directory and a file can always be migrated.
///
/// A key is 1 ... 1024 UTF-8 bytes of `/`-separated segments. Rejected, with a message saying
/// why: an empty segment (leading `/`, `//`, trailing `/`), a `.` or `..` segment, a
/// backslash, NUL and every other control or format character (bidi overrides, zero-width
/// characters, BOM), line and paragraph separators, non-ASCII spaces, private-use and
/// unassigned code points, characters that look like `/`, `\` or `.` (fullwidth solidus,
/// division slash, one-dot leader, ...), text that is not in Unicode NFC, and the reserved
/// first segment `.steadfast-tmp` (where the local backend keeps its temporary files).
public enum StorageKey {
    /// Longest key in UTF-8 bytes (S3's limit).
    public static let maximumLength = 1024
    /// First segment reserved for temporary files of the local backend.
    public static let reservedSegment = ".steadfast-tmp"

    /// Throws ``StorageError/Kind/invalidKey`` naming the problem, or returns the key.
    @discardableResult
    public static func validate(_ key: String) throws -> String {
        func reject(_ why: String) -> StorageError {
            StorageError(.invalidKey, "invalid storage key \(printable(key)): \(why)")
        }
        if key.isEmpty { throw reject("it is empty") }
        if key.utf8.count > maximumLength { throw reject("it is longer than \(maximumLength) bytes") }
        if key.hasPrefix("/") { throw reject("it starts with '/' (keys are relative)") }
        for scalar in key.unicodeScalars {
            if let problem = problem(with: scalar) { throw reject(problem) }
        }
        if !isNFC(key) { throw reject("it is not in Unicode normal form C") }
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty { throw reject("it has an empty path segment") }
            if segment == "." || segment == ".." { throw reject("it has a '\(segment)' segment") }
            if index == 0 && segment == reservedSegment { throw reject("'\(reservedSegment)' is reserved") }
        }
        return key
    }

    /// Whether `prefix` is acceptable for listing: empty, or a key-like string that may end in `/`.
    public static func validatePrefix(_ prefix: String) throws {
        guard !prefix.isEmpty else { return }
        let trimmed = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        do {
            try validate(trimmed)
        } catch let error as StorageError {
            throw StorageError(.invalidKey, error.message.replacingOccurrences(of: "invalid storage key", with: "invalid storage prefix"))
        }
    }

    private static func problem(with scalar: Unicode.Scalar) -> String? {
        let hex = "U+" + String(scalar.value, radix: 16, uppercase: true)
        switch scalar.value {
        case 0: return "it contains a NUL byte"
        case 0x5C: return "it contains a backslash"
        case 0x2024, 0x2025, 0x2026, 0xFE52, 0xFF0E, 0x2215, 0x2044, 0x29F8, 0x29F9, 0xFF0F, 0xFF3C, 0xFE68, 0x3002, 0xFF61:
            return "it contains \(hex), which looks like '/', '\\' or '.'"
        default: break
        }
        if scalar.value > 0x7F {
            let compatible = String(scalar).decomposedStringWithCompatibilityMapping
            if compatible.contains("/") || compatible.contains("\\") || compatible.contains(".") {
                return "it contains \(hex), which looks like '/', '\\' or '.'"
            }
        }
        switch scalar.properties.generalCategory {
        case .control: return "it contains the control character \(hex)"
        case .format: return "it contains the invisible formatting character \(hex)"
        case .lineSeparator, .paragraphSeparator: return "it contains the line separator \(hex)"
        case .spaceSeparator where scalar != " ": return "it contains the non-ASCII space \(hex)"
        case .privateUse: return "it contains the private-use character \(hex)"
        case .unassigned: return "it contains the unassigned code point \(hex)"
        case .surrogate: return "it contains a surrogate code point"
        default: return nil
        }
    }

    /// Whether the key is already in Unicode NFC (decomposed accents would make two
    /// different byte strings for what a person sees as one name).
    private static func isNFC(_ key: String) -> Bool {
        Array(key.unicodeScalars) == Array(key.precomposedStringWithCanonicalMapping.unicodeScalars)
    }

    /// The key with control characters shown as `\u{...}`, quoted, cut to 120 characters.
    static func printable(_ key: String) -> String {
        var out = ""
        for scalar in key.unicodeScalars.prefix(120) {
            let category = scalar.properties.generalCategory
            if category == .control || category == .format || category == .lineSeparator || category == .paragraphSeparator {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        if key.unicodeScalars.count > 120 { out += "..." }
        return "'" + out + "'"
    }
}
