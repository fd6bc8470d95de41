import Foundation
@testable import SteadfastDomain
import Testing

/// TOTP, HOTP, base32 and SHA-1 against the RFCs' own vectors, and against Python's `pyotp`
/// (an independent implementation; scripts/test.sh installs it).
@Suite struct TwoFactorTests {
    static let rfcSeed = Array("12345678901234567890".utf8)

    @Test func sha1MatchesRFC3174AndHMACMatchesRFC2202() {
        let hex: ([UInt8]) -> String = { $0.map { String(format: "%02x", $0) }.joined() }
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.hash([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        #expect(hex(SHA1.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))) == "b617318655057264e28bc0b6fb378c8ef146be00")
        // A key longer than the block is hashed first (RFC 2202 case 6).
        #expect(hex(SHA1.hmac(key: [UInt8](repeating: 0xaa, count: 80), message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
            == "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }

    @Test func hotpMatchesRFC4226AppendixD() {
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        for (counter, code) in expected.enumerated() {
            #expect(HOTP.code(secret: Self.rfcSeed, counter: UInt64(counter)) == code)
        }
    }

    @Test func totpMatchesRFC6238AppendixB() {
        let vectors: [(Double, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        let totp = TOTP(secret: Self.rfcSeed)
        for (seconds, code) in vectors {
            #expect(totp.code(step: TOTP.step(at: Date(timeIntervalSince1970: seconds)), digits: 8) == code)
            // The six-digit code is the same number's last six digits.
            #expect(totp.code(at: Date(timeIntervalSince1970: seconds)) == String(code.suffix(6)))
        }
    }

    @Test func base32MatchesRFC4648AndRefusesGarbage() {
        let vectors = ["": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI"]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base32.decode("mzxw 6ytb-oi======") == Array("foobar".utf8))
        #expect(Base32.decode("MZXW1") == nil)  // 1 is not in the alphabet
        #expect(Base32.decode("MZ") == nil)  // leftover bits not zero
        #expect(TOTP(base32: "MZXW6") == nil)  // too short for a secret
    }

    @Test func aCodeIsAcceptedWithinOneStepEitherSideAndOnlyOnce() {
        let totp = TOTP(secret: Self.rfcSeed)
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = TOTP.step(at: now)
        #expect(totp.verify(totp.code(step: step), at: now, lastUsedStep: nil) == .accepted(step: step))
        #expect(totp.verify(totp.code(step: step - 1), at: now, lastUsedStep: nil) == .accepted(step: step - 1))
        #expect(totp.verify(totp.code(step: step + 1), at: now, lastUsedStep: nil) == .accepted(step: step + 1))
        #expect(totp.verify(totp.code(step: step - 2), at: now, lastUsedStep: nil) == .wrong)
        #expect(totp.verify(totp.code(step: step + 2), at: now, lastUsedStep: nil) == .wrong)
        // Replay: the same step again, or an older one after a newer was used.
        #expect(totp.verify(totp.code(step: step), at: now, lastUsedStep: step) == .replayed)
        #expect(totp.verify(totp.code(step: step - 1), at: now, lastUsedStep: step) == .replayed)
        #expect(totp.verify(totp.code(step: step + 1), at: now, lastUsedStep: step) == .accepted(step: step + 1))
        #expect(totp.verify("12345", at: now, lastUsedStep: nil) == .malformed)
        #expect(totp.verify("abcdef", at: now, lastUsedStep: nil) == .malformed)
    }

    @Test func theProvisioningURIIsWhatAuthenticatorAppsRead() {
        let totp = TOTP(secret: Self.rfcSeed)
        #expect(totp.base32Secret == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
        #expect(totp.provisioningURI(issuer: "Steadfast Hosting", accountName: "alice+x@example.com")
            == "otpauth://totp/Steadfast%20Hosting:alice%2Bx%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Steadfast%20Hosting&algorithm=SHA1&digits=6&period=30")
    }

    @Test func recoveryCodesAreTenDistinctAndNormalised() {
        var generator = SystemRandomNumberGenerator()
        let codes = RecoveryCodes.generate(using: &generator)
        #expect(codes.count == 10)
        #expect(Set(codes).count == 10)
        for code in codes { #expect(code.count == 11 && RecoveryCodes.normalize(code) != nil) }
        #expect(RecoveryCodes.normalize(" ABCDE-fgh23 ") == "abcdefgh23")
        #expect(RecoveryCodes.normalize("abcde-fgh21") == nil)
        #expect(RecoveryCodes.normalize("123456") == nil)
    }

    /// Codes from `pyotp` for random secrets at random instants equal ours.
    @Test func codesMatchPythonsPyotp() throws {
        var generator = SystemRandomNumberGenerator()
        var cases: [(TOTP, Int64)] = []
        for _ in 0..<20 {
            cases.append((TOTP.generate(using: &generator), Int64.random(in: 0...4_000_000_000, using: &generator)))
        }
        let script = """
            import sys, pyotp
            for line in sys.stdin:
                secret, t = line.split()
                print(pyotp.TOTP(secret).at(int(t)))
            """
        let input = cases.map { "\($0.0.base32Secret) \($0.1)" }.joined(separator: "\n") + "\n"
        let output = try runPython(script, input: input)
        let theirs = output.split(separator: "\n").map(String.init)
        #expect(theirs.count == cases.count)
        for (index, (totp, seconds)) in cases.enumerated() where index < theirs.count {
            #expect(totp.code(at: Date(timeIntervalSince1970: Double(seconds))) == theirs[index], "secret \(totp.base32Secret) at \(seconds)")
        }
    }
}

/// Runs `python3 -c script` with `input` on standard input; its standard output.
func runPython(_ script: String, input: String) throws -> String {
    try runProcess("python3", ["-c", script], input: input)
}

/// Runs `command` (found on PATH) with `input` on standard input; its standard output.
func runProcess(_ command: String, _ arguments: [String], input: String = "") throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [command] + arguments
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let data = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw PythonFailed(message: "\(command): " + String(decoding: errors, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
}

struct PythonFailed: Error, CustomStringConvertible {
    let message: String
    var description: String { "a helper program failed (python3 with pyotp and segno, zbarimg: scripts/test.sh installs them): \(message)" }
}
