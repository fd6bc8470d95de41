import Foundation
import NIOSSL
import SteadfastMail
import SteadfastTestSupport
import Testing

/// The SMTP client against a real server that requires STARTTLS and AUTH, as in
/// `smtp://user:pass@relay:587?starttls=required`.
@Suite("SMTP over STARTTLS")
struct SMTPTLSTests {
    /// A self-signed certificate for 127.0.0.1 (openssl, installed by scripts/test.sh).
    static func certificate(in directory: URL) async throws -> (certificate: String, key: String) {
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let made = try await ProcessRunner.run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ], timeout: .seconds(60))
        guard made.status == 0 else { throw HarnessError("openssl failed: \(made.standardError)") }
        return (certificate, key)
    }

    static let envelope = SMTPEnvelope(from: "billing@steadfast.example", recipients: ["alice@example.org"], message: Array("Subject: tls\r\nMessage-ID: <tls-1@steadfast.example>\r\n\r\nover TLS\r\n".utf8))

    @Test func sendsOverStartTLSWithAuthAndRefusesAnUntrustedCertificate() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "smtp-tls")
        defer { try? FileManager.default.removeItem(at: directory) }
        let pem = try await Self.certificate(in: directory)
        let server = try await SMTPTestServer.start(auth: ("mailer", "s3cret:pw"), tls: pem)
        defer { server.stop() }
        let url = try SMTPURL(parsing: "smtp://mailer:s3cret%3Apw@127.0.0.1:\(server.port)?starttls=required")

        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(pem.certificate))
        try await SMTPMailTransport(url: url, heloName: "test.example", timeout: .seconds(20), tlsConfiguration: trusting).send(Self.envelope)
        #expect(server.messages().count == 1)
        #expect(String(decoding: server.messages()[0], as: UTF8.self).contains("<tls-1@steadfast.example>"))

        // The system's trust roots do not know the test certificate: nothing is sent, and the
        // failure is temporary (retried), never a silent downgrade to plain text.
        do {
            try await SMTPMailTransport(url: url, heloName: "test.example", timeout: .seconds(20)).send(Self.envelope)
            Issue.record("sent to a server with an untrusted certificate")
        } catch let failure as SMTPFailure {
            #expect(failure.stage == "starttls" && !failure.isPermanent, "\(failure)")
            #expect(!failure.description.contains("s3cret"))
        }
        // Wrong credentials: the server's 535 is permanent.
        let wrong = try SMTPURL(parsing: "smtp://mailer:nope@127.0.0.1:\(server.port)?starttls=required")
        do {
            try await SMTPMailTransport(url: wrong, heloName: "test.example", timeout: .seconds(20), tlsConfiguration: trusting).send(Self.envelope)
            Issue.record("accepted wrong credentials")
        } catch let failure as SMTPFailure {
            #expect(failure.stage == "auth" && failure.reply?.code == 535, "\(failure) \(server.log())")
        }
        #expect(server.messages().count == 1)
    }

    @Test func starttlsRequiredRefusesAServerWithoutIt() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        let url = try SMTPURL(parsing: "smtp://127.0.0.1:\(server.port)?starttls=required")
        await #expect(throws: SMTPFailure.self) { try await SMTPMailTransport(url: url, heloName: "t.example", timeout: .seconds(10)).send(Self.envelope) }
        #expect(server.messages().isEmpty)
    }
}
