import SteadfastStorage
import Testing

/// Keys that could escape a directory, hide their meaning or collide are refused everywhere.
@Suite struct StorageKeyTests {
    @Test(arguments: [
        "tickets/12/report (final).pdf", "ünïcödé/файл.txt", "a+b~c%d=e&f", "with space", "漢字/🙂.png",
        ".hidden", "x/.steadfast-tmp/y", "..a", "a..", "2026/11/30/invoice-0001.pdf",
    ])
    func acceptsOrdinaryKeys(key: String) throws {
        #expect(try StorageKey.validate(key) == key)
    }

    @Test(arguments: [
        ("", "empty"), ("..", "'..'"), ("../etc/passwd", "'..'"), ("a/../../b", "'..'"), ("a/./b", "'.'"),
        ("/etc/passwd", "starts with '/'"), ("a//b", "empty path segment"), ("a/", "empty path segment"),
        ("a\u{0}b", "NUL"), ("a\\..\\b", "backslash"), ("a\u{202E}fdp.exe", "invisible formatting"),
        ("a\u{200B}b", "invisible formatting"), ("\u{FEFF}a", "invisible formatting"), ("a\nb", "control character"),
        ("a\u{2028}b", "line separator"), ("a\u{00A0}b", "non-ASCII space"), ("e\u{301}t\u{301}e\u{301}", "normal form C"),
        ("\u{FF0E}\u{FF0E}/x", "looks like"), ("a\u{2215}..", "looks like"), ("a\u{FF0F}b", "looks like"),
        ("\u{2024}\u{2024}", "looks like"), ("\u{E000}", "private-use"), (".steadfast-tmp/x", "reserved"),
        (String(repeating: "a", count: 1025), "longer than 1024"),
    ])
    func rejectsDangerousKeys(key: String, reason: String) {
        let error = #expect(throws: StorageError.self) { try StorageKey.validate(key) }
        #expect(error?.kind == .invalidKey)
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "")")
    }

    @Test func messagesShowInvisibleCharacters() {
        let error = #expect(throws: StorageError.self) { try StorageKey.validate("a\u{202E}b") }
        #expect(error?.message.contains("\\u{202E}") == true)
    }
}
