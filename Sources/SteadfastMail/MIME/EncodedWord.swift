import Foundation

/// RFC 2047 encoded words (`=?charset?B|Q?text?=`) in headers.
public enum EncodedWord {
    /// Encodes `text` as UTF-8 base64 encoded words, each at most 75 characters, never splitting
    /// a character between words.
    public static func encode(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append(word(chunk))
                chunk = []
            }
            chunk.append(contentsOf: bytes)
        }
        if !chunk.isEmpty || words.isEmpty { words.append(word(chunk)) }
        return words
    }

    static func word(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(Data(bytes).base64EncodedString())?=" }

    /// Decodes every encoded word in an unstructured header value; whitespace between two adjacent
    /// encoded words is dropped (RFC 2047 §6.2). Unknown charsets and malformed words stay as written.
    public static func decode(_ value: String) -> String {
        var result = ""
        var rest = Substring(value)
        var pendingSpace = ""
        var lastWasWord = false
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let (decoded, after) = decodeWord(rest) {
                if !lastWasWord { result += pendingSpace }
                pendingSpace = ""
                result += decoded
                rest = after
                lastWasWord = true
                continue
            }
            let character = rest.removeFirst()
            if character == " " || character == "\t" {
                pendingSpace.append(character)
                continue
            }
            result += pendingSpace
            pendingSpace = ""
            result.append(character)
            lastWasWord = false
        }
        return result + pendingSpace
    }

    /// One `=?charset?enc?text?=` at the start of `text`, decoded, and what follows it.
    static func decodeWord(_ text: Substring) -> (String, Substring)? {
        let parts = text.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[3].hasPrefix("=") else { return nil }
        let charset = parts[0].split(separator: "*").first.map(String.init) ?? ""  // RFC 2231 language suffix
        let encoding = parts[1].uppercased()
        let payload = parts[2]
        guard !payload.contains(" ") else { return nil }
        let bytes: [UInt8]
        switch encoding {
        case "B":
            var padded = String(payload)
            while padded.count % 4 != 0 { padded += "=" }
            guard let data = Data(base64Encoded: padded) else { return nil }
            bytes = Array(data)
        case "Q":
            bytes = QuotedPrintable.decode(Array(payload.replacingOccurrences(of: "_", with: " ").utf8))
        default:
            return nil
        }
        guard let decoded = Charsets.decode(bytes, charset: charset) else { return nil }
        let consumed = 2 + parts[0].count + 1 + parts[1].count + 1 + parts[2].count + 2
        return (decoded, text.dropFirst(consumed))
    }
}
