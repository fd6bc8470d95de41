import Foundation
import SteadfastSigV4
import Testing

/// The small rules of Signature Version 4 that are easy to get wrong.
@Suite struct SigV4DetailsTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret/with+odd=chars", sessionToken: "token==")

    @Test func encodingKeepsOnlyUnreservedCharacters() {
        #expect(SigV4URIEncoding.encode("a b+c~d%e/f", keepSlash: true) == "a%20b%2Bc~d%25e/f")
        #expect(SigV4URIEncoding.encode("a/b") == "a%2Fb")
        #expect(SigV4URIEncoding.encode("é漢") == "%C3%A9%E6%BC%A2")
        #expect(SigV4URIEncoding.encode("!*'()$&=") == "%21%2A%27%28%29%24%26%3D")
        #expect(SigV4URIEncoding.decode("a%20b+c%zz%2") == "a b+c%zz%2")
    }

    @Test func headerValuesAreTrimmedAndFolded() throws {
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
        let signed = try signer.signHeaders(
            method: "get", url: URL(string: "http://127.0.0.1:9000/bucket/key")!,
            headers: [SigV4Header("X-Amz-Meta-Note", "  two   spaces\there  "), SigV4Header("User-Agent", "not signed")],
            payload: .unsigned, date: Date(timeIntervalSince1970: 0)
        )
        #expect(signed.canonicalRequest.method == "GET")
        #expect(signed.canonicalRequest.headers.contains("x-amz-meta-note:two spaces here\n"))
        #expect(signed.canonicalRequest.headers.contains("host:127.0.0.1:9000\n"))
        #expect(!signed.canonicalRequest.signedHeaders.contains("user-agent"))
        #expect(signed.canonicalRequest.signedHeaders.contains("x-amz-security-token"))
        #expect(signed.header("X-Amz-Security-Token") == "token==")
        #expect(signed.header("X-Amz-Content-SHA256") == "UNSIGNED-PAYLOAD")
    }

    @Test func defaultPortsAreLeftOutOfHost() throws {
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
        let signed = try signer.signHeaders(method: "GET", url: URL(string: "https://s3.example.com:443/b")!, payload: .empty, date: Date(timeIntervalSince1970: 0))
        #expect(signed.header("Host") == "s3.example.com")
    }

    @Test func queryIsSortedByNameThenValue() throws {
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
        let signed = try signer.signHeaders(method: "GET", url: URL(string: "https://h/b?b=2&a=2&a=1&uploads&c=%7e")!, payload: .empty, date: Date(timeIntervalSince1970: 0))
        #expect(signed.canonicalRequest.query == "a=1&a=2&b=2&c=~&uploads=")
    }

    @Test func presignRejectsImpossibleLifetimes() {
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
        #expect(throws: SigV4Error.self) { try signer.presignURL(method: "GET", url: URL(string: "https://h/b/k")!, expiresInSeconds: 0) }
        #expect(throws: SigV4Error.self) { try signer.presignURL(method: "GET", url: URL(string: "https://h/b/k")!, expiresInSeconds: 604_801) }
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let text = "\(credentials) \(String(reflecting: credentials))"
        #expect(!text.contains("secret/with"))
        #expect(!text.contains("token=="))
        #expect(text.contains("AKIDEXAMPLE"))
    }

    @Test func credentialsComeFromTheStandardVariables() {
        let found = AWSCredentials(environment: ["AWS_ACCESS_KEY_ID": "AKIA1", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": ""])
        #expect(found == AWSCredentials(accessKeyID: "AKIA1", secretAccessKey: "s"))
        #expect(AWSCredentials(environment: ["AWS_ACCESS_KEY_ID": "AKIA1"]) == nil)
    }
}
