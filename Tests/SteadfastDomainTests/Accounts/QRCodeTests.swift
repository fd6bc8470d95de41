import Foundation
@testable import SteadfastDomain
import Testing

/// The QR encoder against a known matrix and against Python's `segno` (an independent encoder;
/// scripts/test.sh installs it), module for module.
@Suite struct QRCodeTests {
    /// "otpauth://totp" (14 bytes: version 1 exactly full, so no pad bytes), level M, mask 2,
    /// made by segno 1.6.6.
    static let knownMatrix = """
        111111100101101111111
        100000100110101000001
        101110101010001011101
        101110101111101011101
        101110101100101011101
        100000101010101000001
        111111101010101111111
        000000001100100000000
        101111100000101111100
        101110000101001011111
        001011110001101100110
        011110001000100101111
        111001110111101111011
        000000001101011110101
        111111100111111000110
        100000101001000101101
        101110101101001000011
        101110101000011010100
        101110101001111001100
        100000100110110001100
        111111101001111001010
        """

    @Test func aKnownMatrixIsReproducedExactly() throws {
        let code = try QRCode.encode("otpauth://totp", mask: 2)
        #expect(code.version == 1)
        #expect(code.size == 21)
        let expected = Self.knownMatrix.split(separator: "\n").map { $0.map { $0 == "1" } }
        for (row, bits) in expected.enumerated() {
            #expect((0..<21).map { code[row, $0] } == bits, "row \(row)")
        }
    }

    @Test func theSmallestVersionHoldingTheDataIsChosen() throws {
        #expect(try QRCode.encode(String(repeating: "a", count: 14)).version == 1)
        #expect(try QRCode.encode(String(repeating: "a", count: 15)).version == 2)
        #expect(try QRCode.encode(String(repeating: "a", count: 412)).version == 15)
        #expect(throws: QRCodeError.tooLong) { try QRCode.encode(String(repeating: "a", count: 413)) }
        #expect(throws: QRCodeError.invalidMask) { try QRCode.encode("x", mask: 8) }
    }

    /// Every version 1–15, every mask, module for module equal to segno's matrices. Lengths fill
    /// each version exactly: below capacity segno 1.6.6 writes a zero byte after the terminator
    /// even when the bits already end on a byte boundary (its `write_padding_bits` adds
    /// `8 - length % 8` bits), where ISO/IEC 18004 §7.4.10 adds none; both decode the same, but
    /// the modules differ, so those sizes are checked by decoding instead (next test). The mask
    /// chosen by penalty is not compared: implementations read rule N3 differently, and any
    /// mask gives a valid symbol.
    @Test func everyVersionAndMaskMatchesSegno() throws {
        let lengths = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412]
        var cases: [(text: String, mask: Int?)] = []
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:/?&=%.")
        for (index, length) in lengths.enumerated() {
            let text = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
            for mask in [index % 8, (index + 3) % 8, (index + 5) % 8] { cases.append((text, mask)) }
        }
        let ours = try cases.map { try QRCode.encode($0.text, mask: $0.mask) }
        let script = """
            import sys, segno
            for line in sys.stdin:
                version, mask, text = line.rstrip("\\n").split(" ", 2)
                q = segno.make(text, error="m", mode="byte", version=int(version), mask=None if mask == "-" else int(mask), boost_error=False, micro=False)
                print(q.mask, "".join("".join("1" if b else "0" for b in row) for row in q.matrix_iter(border=0)))
            """
        let input = zip(cases, ours).map { "\($1.version) \($0.mask.map(String.init) ?? "-") \($0.text)" }.joined(separator: "\n") + "\n"
        let lines = try runPython(script, input: input).split(separator: "\n")
        #expect(lines.count == cases.count)
        for (index, line) in lines.enumerated() where index < ours.count {
            let parts = line.split(separator: " ")
            let code = ours[index]
            let mine = (0..<code.size).flatMap { row in (0..<code.size).map { code[row, $0] ? "1" : "0" } }.joined()
            #expect(String(parts[1]) == mine, "matrix for case \(index), version \(code.version), mask \(code.mask)")
        }
    }

    /// Codes of every size, otpauth URIs among them, read back by an independent decoder
    /// (zbar's `zbarimg`, installed by scripts/test.sh) to the exact text.
    @Test func zbarReadsBackWhatWasEncoded() throws {
        var texts = [
            "otpauth://totp/Steadfast:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Steadfast&algorithm=SHA1&digits=6&period=30",
            "x", "HELLO WORLD",
        ]
        var generator = SystemRandomNumberGenerator()
        for length in [20, 33, 60, 99, 150, 200, 260, 300, 400] {
            texts.append(String((0..<length).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x21...0x7E, using: &generator))) }))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("qr-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, text) in texts.enumerated() {
            let code = try QRCode.encode(text)
            let file = directory.appendingPathComponent("\(index).pgm")
            try Self.pgm(code).write(to: file)
            let decoded = try runProcess("zbarimg", ["-q", "--raw", file.path])
            #expect(decoded.trimmingCharacters(in: .newlines) == text, "version \(code.version), mask \(code.mask)")
        }
    }

    /// A binary PGM image: 4 modules of quiet zone, 6 pixels per module.
    static func pgm(_ code: QRCode) -> Data {
        let scale = 6, side = (code.size + 8) * scale
        var data = Data("P5 \(side) \(side) 255\n".utf8)
        for y in 0..<side {
            for x in 0..<side {
                let row = y / scale - 4, column = x / scale - 4
                let dark = (0..<code.size).contains(row) && (0..<code.size).contains(column) && code[row, column]
                data.append(dark ? 0 : 255)
            }
        }
        return data
    }
}
