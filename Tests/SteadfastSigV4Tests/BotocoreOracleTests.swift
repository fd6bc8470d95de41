import Foundation
import SteadfastSigV4
import SteadfastTestSupport
import Testing

/// SteadfastSigV4 against botocore's signer, an independent implementation, over hundreds of
/// generated requests: odd keys (spaces, unicode, `+`, `~`, `%`...), query strings, empty and
/// non-empty bodies, session tokens, other services, presigned URLs. One python3 process signs
/// them all.
@Suite struct BotocoreOracleTests {
    struct Case: Encodable {
        var mode: String
        var method: String
        var url: String
        var headers: [[String]]
        var body_hex: String
        var timestamp: String
        var region: String
        var service: String
        var access_key: String
        var secret_key: String
        var token: String?
        var expires: Int?
    }

    struct Answer: Decodable {
        var canonical_request: String
        var string_to_sign: String
        var signature: String
        var url: String?
        var authorization: String?
    }

    /// A small deterministic generator, so a failure can be reproduced.
    typealias SplitMix64 = SeededGenerator

    static let keyPieces = ["a", "Z", "0", " ", "+", "~", "%", "=", "&", "!", "*", "'", "(", ")", "$", "@", ":", ",", ";",
                            "?", "#", "[", "]", "é", "ü", "漢字", "файл", "🙂", "-", "_", ".", "/", "report", "2026"]
    static let queryPieces = ["x", "Y", "1", " ", "+", "~", "%", "=", "/", "é", "&", "*", "-", "_", "."]

    static func word(_ pieces: [String], _ count: ClosedRange<Int>, _ rng: inout SplitMix64) -> String {
        (0..<Int.random(in: count, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func makeCases(count: Int) -> ([Case], [(url: URL, headers: [SigV4Header], payload: SigV4Payload, signer: SigV4Signer, date: Date)]) {
        var rng = SplitMix64(seed: 20_261_130)
        var cases: [Case] = []
        var inputs: [(URL, [SigV4Header], SigV4Payload, SigV4Signer, Date)] = []
        let regions = ["us-east-1", "eu-central-1", "auto", "ap-southeast-2"]
        let hosts = ["http://127.0.0.1:9000", "https://s3.eu-central-1.amazonaws.com", "https://bucket.s3.amazonaws.com", "http://minio.local:8080"]
        for index in 0..<count {
            let presign = index % 4 == 3
            let service = !presign && index % 7 == 5 ? "execute-api" : "s3"
            var key = word(keyPieces, 1...8, &rng)
            while key.hasPrefix("/") || key.contains("//") || key.hasSuffix("/") { key = key.replacingOccurrences(of: "/", with: "x") }
            if service != "s3" { key = key.replacingOccurrences(of: ".", with: "d") }
            let path = "/" + (index % 3 == 0 ? "bucket/" : "") + SigV4URIEncoding.encode(key, keepSlash: true)
            var query: [String] = []
            var names = Set<String>()
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                let name = word(queryPieces, 1...4, &rng)
                guard names.insert(name).inserted else { continue }
                if !presign && Bool.random(using: &rng) && query.count < 1 {
                    query.append(SigV4URIEncoding.encode(name))
                } else {
                    query.append(SigV4URIEncoding.encode(name) + "=" + SigV4URIEncoding.encode(word(queryPieces, 0...6, &rng)))
                }
            }
            let url = hosts.randomElement(using: &rng)! + path + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            var headers: [SigV4Header] = []
            if !presign {
                if Bool.random(using: &rng) { headers.append(SigV4Header("Content-Type", ["application/pdf", "text/plain; charset=utf-8", "image/png"].randomElement(using: &rng)!)) }
                if Bool.random(using: &rng) { headers.append(SigV4Header("X-Amz-Meta-Note", "  spaced   out\tvalue  ")) }
                if Bool.random(using: &rng) { headers.append(SigV4Header("Range", "bytes=\(Int.random(in: 0...99, using: &rng))-\(Int.random(in: 100...999, using: &rng))")) }
                if Bool.random(using: &rng) { headers.append(SigV4Header("User-Agent", "steadfast-test")) }
            }
            let bodyBytes: [UInt8] = presign || Bool.random(using: &rng) ? [] : (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let method = presign ? ["GET", "PUT"].randomElement(using: &rng)! : ["GET", "PUT", "POST", "DELETE", "HEAD"].randomElement(using: &rng)!
            let token: String? = index % 5 == 0 ? "FwoGZXIvYXdzEJr//////////wEaDH+token=" : nil
            let credentials = AWSCredentials(accessKeyID: "AKIA\(index)EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfi\(index)", sessionToken: token)
            let region = regions.randomElement(using: &rng)!
            let date = Date(timeIntervalSince1970: Double(1_700_000_000 + Int.random(in: 0...100_000_000, using: &rng)))
            let expires = Int.random(in: 1...604_800, using: &rng)
            cases.append(Case(
                mode: presign ? "presign" : "headers", method: method, url: url, headers: headers.map { [$0.name, $0.value] },
                body_hex: bodyBytes.map { String(format: "%02x", $0) }.joined(), timestamp: SigV4Date(date).timestamp,
                region: region, service: service, access_key: credentials.accessKeyID, secret_key: credentials.secretAccessKey,
                token: token, expires: presign ? expires : nil
            ))
            let payload: SigV4Payload = bodyBytes.isEmpty ? .empty : .bytes(bodyBytes)
            inputs.append((URL(string: url)!, headers, payload, SigV4Signer(credentials: credentials, region: region, service: service), date))
        }
        return (cases, inputs)
    }

    @Test func matchesBotocoreOnGeneratedRequests() async throws {
        let (cases, inputs) = Self.makeCases(count: 400)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sigv4-oracle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("cases.json")
        try JSONEncoder().encode(cases).write(to: input)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Oracle/botocore_oracle.py").path
        let result = try await ProcessRunner.run(["python3", script, input.path], timeout: .seconds(120))
        try #require(result.status == 0, "botocore oracle failed (pip install boto3): \(result.standardError)")
        let answers = try JSONDecoder().decode([Answer].self, from: result.standardOutput)
        try #require(answers.count == cases.count)
        var presigned = 0
        for (index, (testCase, answer)) in zip(cases, answers).enumerated() {
            let (url, headers, payload, signer, date) = inputs[index]
            if testCase.mode == "presign" {
                presigned += 1
                let ours = try signer.presignURL(method: testCase.method, url: url, headers: headers, expiresInSeconds: testCase.expires!, date: date)
                #expect(ours.canonicalRequest.text == answer.canonical_request, "case \(index): \(testCase.url)")
                #expect(ours.signature == answer.signature, "case \(index): \(testCase.url)")
                let theirs = URLComponents(string: answer.url!)!.queryItems!.first { $0.name == "X-Amz-Signature" }?.value
                #expect(URLComponents(url: ours.url, resolvingAgainstBaseURL: false)!.queryItems!.first { $0.name == "X-Amz-Signature" }?.value == theirs)
            } else {
                let ours = try signer.signHeaders(method: testCase.method, url: url, headers: headers, payload: payload, date: date)
                #expect(ours.canonicalRequest.text == answer.canonical_request, "case \(index): \(testCase.method) \(testCase.url)")
                #expect(ours.stringToSign == answer.string_to_sign, "case \(index)")
                #expect(ours.signature == answer.signature, "case \(index): \(testCase.url)")
                #expect(ours.header("Authorization") == answer.authorization, "case \(index)")
            }
        }
        #expect(presigned >= 90)
    }
}
