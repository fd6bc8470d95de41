import Foundation
import Testing
@testable import SteadfastMail

@Suite("MIME building")
struct MessageBuilderTests {
    static let date = Date(timeIntervalSince1970: 1_796_507_630)  // 2026-12-05 21:53:50 UTC

    func build(subject: String, text: String, html: String? = "<p>x</p>", name: String = "Ünïcode Client") -> String {
        let message = MessageBuilder.Message(
            from: Mailbox(address: "billing@example.com", name: "Steadfast \"Billing\""), to: Mailbox(address: "c@example.org", name: name),
            subject: subject, textBody: text, htmlBody: html, messageID: "<abc@example.com>", date: Self.date,
            extraHeaders: [("Auto-Submitted", "auto-generated")]
        )
        return String(decoding: MessageBuilder.build(message, boundary: "BOUNDARY"), as: UTF8.self)
    }

    @Test func aMultipartAlternativeMessageWithCRLFAndShortLines() {
        let text = build(subject: "Invoice INV-1 issued", text: "Hello\nline two " + String(repeating: "x", count: 200) + "\n")
        #expect(text.contains("From: \"Steadfast \\\"Billing\\\"\" <billing@example.com>\r\n"))
        #expect(text.contains("Date: Sat, 05 Dec 2026 21:53:50 +0000\r\n"))
        #expect(text.contains("Message-ID: <abc@example.com>\r\n"))
        #expect(text.contains("Content-Type: multipart/alternative; boundary=\"BOUNDARY\"\r\n"))
        #expect(text.contains("--BOUNDARY\r\nContent-Type: text/plain; charset=utf-8\r\n"))
        #expect(text.contains("--BOUNDARY\r\nContent-Type: text/html; charset=utf-8\r\n"))
        #expect(text.hasSuffix("--BOUNDARY--\r\n"))
        #expect(text.contains("Auto-Submitted: auto-generated\r\n"))
        // Every LF is part of a CRLF, and no line is longer than 78 characters.
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() where byte == 10 { #expect(index > 0 && bytes[index - 1] == 13) }
        for line in text.components(separatedBy: "\r\n") { #expect(line.count <= 78, "\(line)") }
    }

    @Test func nonASCIIHeadersBecomeEncodedWordsThatDecodeBack() {
        let subject = "Rechnung für Müller – 請求書 " + String(repeating: "é", count: 40)
        let text = build(subject: subject, text: "x")
        let headerBlock = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(headerBlock.unicodeScalars.allSatisfy { $0.isASCII })
        // Unfold the Subject header and decode it.
        let unfolded = headerBlock.replacingOccurrences(of: "\r\n ", with: " ")
        let line = unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix("Subject: ") }!
        #expect(EncodedWord.decode(String(line.dropFirst("Subject: ".count))) == subject)
        let to = unfolded.components(separatedBy: "\r\n").first { $0.hasPrefix("To: ") }!
        #expect(EncodedWord.decode(String(to.dropFirst(4))) == "Ünïcode Client <c@example.org>")
    }

    @Test func headerValuesCannotInjectHeaders() {
        let text = build(subject: "hi\r\nBcc: victim@example.com", text: "x", name: "Eve\r\nBcc: victim@example.com")
        let headerBlock = text.components(separatedBy: "\r\n\r\n")[0]
        #expect(!headerBlock.components(separatedBy: "\r\n").contains { $0.hasPrefix("Bcc:") })
    }

    @Test func quotedPrintableRoundTripsAndKeepsLinesShort() {
        let samples = ["plain", "trailing space \nnext", "a=b", String(repeating: "€", count: 60), "tab\t", "", "\r\n\r\n", String(repeating: "y", count: 300)]
        for sample in samples {
            let encoded = QuotedPrintable.encode(Array(sample.utf8))
            for line in encoded.components(separatedBy: "\r\n") { #expect(line.count <= 76) }
            #expect(!encoded.components(separatedBy: "\r\n").contains { $0.hasSuffix(" ") || $0.hasSuffix("\t") })
            let normalized = sample.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
            #expect(QuotedPrintable.decode(Array(encoded.utf8)) == Array(normalized.utf8), "\(sample)")
        }
    }

    @Test func encodedWordsDecodeBothEncodingsAndCharsets() {
        #expect(EncodedWord.decode("=?ISO-8859-1?Q?Andr=E9?= Pirard") == "André Pirard")
        #expect(EncodedWord.decode("=?utf-8?b?w6nDqQ==?= =?utf-8?b?w6k=?=") == "ééé")
        #expect(EncodedWord.decode("=?windows-1252?Q?=80_5?=") == "€ 5")
        #expect(EncodedWord.decode("plain =?x-unknown?Q?a?= text") == "plain =?x-unknown?Q?a?= text")
        #expect(Charsets.decode([0x93, 0x68, 0x69, 0x94], charset: "Windows-1252") == "\u{201C}hi\u{201D}")
        #expect(Charsets.decode([0xA4], charset: "iso-8859-15") == "€")
        #expect(Charsets.decode([0xE9], charset: "latin1") == "é")
        #expect(Charsets.decode([0xFF, 0xFE], charset: "utf-8") == "\u{FFFD}\u{FFFD}")
        #expect(Charsets.decode([0x41], charset: "klingon") == nil)
    }
}
