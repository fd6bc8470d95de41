import Foundation
import Testing
@testable import SteadfastMail

@Suite("SMTP replies and session")
struct SMTPProtocolTests {
    @Test func parsesSingleAndMultiLineRepliesAcrossChunks() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("220 mx.example ESMTP ready\r\n250-mx.example\r\n250-SIZE 1000".utf8)) == [SMTPReply(code: 220, lines: ["mx.example ESMTP ready"])])
        #expect(parser.isMidReply)
        let replies = try parser.feed(Array("\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n".utf8))
        #expect(replies == [SMTPReply(code: 250, lines: ["mx.example", "SIZE 1000", "STARTTLS", "AUTH PLAIN LOGIN"])])
        #expect(!parser.isMidReply)
        // A bare code with no text, and a bare LF line end.
        #expect(try parser.feed(Array("354\n".utf8)) == [SMTPReply(code: 354, lines: [""])])
    }

    @Test func refusesMalformedReplies() {
        for bad in ["hello\r\n", "25 x\r\n", "250x\r\n", "250-a\r\n251 b\r\n", "650 x\r\n"] {
            var parser = SMTPReplyParser()
            #expect(throws: SMTPProtocolError.self, "\(bad)") { _ = try parser.feed(Array(bad.utf8)) }
        }
        var parser = SMTPReplyParser()
        #expect(throws: SMTPProtocolError.self) { _ = try parser.feed([UInt8](repeating: UInt8(ascii: "2"), count: SMTPReplyParser.maxLineLength + 10)) }
    }

    static let envelope = SMTPEnvelope(from: "noreply@example.com", recipients: ["a@example.org"], message: Array("Subject: x\r\n\r\n.hidden\r\nbody\r\n".utf8))

    func reply(_ code: Int, _ lines: String...) -> SMTPSession.Event { .reply(SMTPReply(code: code, lines: lines)) }

    @Test func aPlainSessionSendsTheEnvelopeAndDotStuffedData() {
        var session = SMTPSession(settings: .init(heloName: "node.example", tls: .opportunistic), envelope: Self.envelope)
        #expect(session.handle(reply(220, "hi")) == .send("EHLO node.example"))
        #expect(session.handle(reply(250, "mx", "SIZE 10")) == .send("MAIL FROM:<noreply@example.com>"))
        #expect(session.handle(reply(250, "ok")) == .send("RCPT TO:<a@example.org>"))
        #expect(session.handle(reply(250, "ok")) == .send("DATA"))
        #expect(session.handle(reply(354, "go")) == .sendData(Array("Subject: x\r\n\r\n..hidden\r\nbody\r\n.\r\n".utf8)))
        #expect(session.handle(reply(250, "queued")) == .delivered(SMTPReply(code: 250, lines: ["queued"])))
        #expect(session.isFinished)
    }

    @Test func startTLSIsRequiredWhenAskedAndAuthFollowsIt() {
        let settings = SMTPSessionSettings(heloName: "n", tls: .required, username: "user", password: "sécret")
        var session = SMTPSession(settings: settings, envelope: Self.envelope)
        _ = session.handle(reply(220, "hi"))
        #expect(session.handle(reply(250, "mx", "STARTTLS", "AUTH LOGIN PLAIN")) == .send("STARTTLS"))
        #expect(session.handle(reply(220, "go ahead")) == .startTLS)
        #expect(session.handle(.tlsEstablished) == .send("EHLO n"))
        let token = Data([0] + Array("user".utf8) + [0] + Array("sécret".utf8)).base64EncodedString()
        #expect(session.handle(reply(250, "mx", "AUTH LOGIN PLAIN")) == .send("AUTH PLAIN \(token)"))
        #expect(session.handle(reply(235, "ok")) == .send("MAIL FROM:<noreply@example.com>"))

        var without = SMTPSession(settings: settings, envelope: Self.envelope)
        _ = without.handle(reply(220, "hi"))
        guard case .fail(let failure) = without.handle(reply(250, "mx", "AUTH PLAIN")) else { Issue.record("went on without TLS"); return }
        #expect(failure.stage == "starttls" && !failure.isPermanent)
    }

    @Test func authLoginAndNoCredentialsInTheClear() {
        var session = SMTPSession(settings: .init(heloName: "n", tls: .never, username: "u", password: "p", allowPlaintextAuth: true), envelope: Self.envelope)
        _ = session.handle(reply(220, "hi"))
        #expect(session.handle(reply(250, "mx", "AUTH LOGIN")) == .send("AUTH LOGIN dQ=="))
        #expect(session.handle(reply(334, "UGFzc3dvcmQ6")) == .send("cA=="))
        #expect(session.handle(reply(235, "ok")) == .send("MAIL FROM:<noreply@example.com>"))

        var clear = SMTPSession(settings: .init(heloName: "n", tls: .opportunistic, username: "u", password: "p"), envelope: Self.envelope)
        _ = clear.handle(reply(220, "hi"))
        guard case .fail(let failure) = clear.handle(reply(250, "mx", "AUTH PLAIN")) else { Issue.record("sent credentials without TLS"); return }
        #expect(failure.stage == "auth")
    }

    @Test func repliesDecidePermanentOrTemporaryFailure() {
        var session = SMTPSession(settings: .init(heloName: "n", tls: .never), envelope: Self.envelope)
        _ = session.handle(reply(220, "hi"))
        _ = session.handle(reply(250, "mx"))
        guard case .fail(let temporary) = session.handle(reply(451, "later")) else { Issue.record("no failure"); return }
        #expect(!temporary.isPermanent && temporary.stage == "mail from")

        var rejected = SMTPSession(settings: .init(heloName: "n", tls: .never), envelope: Self.envelope)
        _ = rejected.handle(reply(220, "hi"))
        _ = rejected.handle(reply(250, "mx"))
        _ = rejected.handle(reply(250, "ok"))
        guard case .fail(let permanent) = rejected.handle(reply(550, "no such user")) else { Issue.record("no failure"); return }
        #expect(permanent.isPermanent && permanent.stage == "rcpt to")
        #expect(permanent.description.contains("550"))
    }

    @Test func dotStuffingNormalisesLineEndsSoNoLineEndsTheDataEarly() {
        #expect(SMTPSession.dotStuffed(Array("a\n.\nb".utf8)) == Array("a\r\n..\r\nb\r\n.\r\n".utf8))
        #expect(SMTPSession.dotStuffed(Array(".\r\n..x\r".utf8)) == Array("..\r\n...x\r\n.\r\n".utf8))
        #expect(SMTPSession.dotStuffed([]) == Array(".\r\n".utf8))
    }

    @Test func smtpURLsParseAndNeverShowThePassword() throws {
        let url = try SMTPURL(parsing: "smtp://us%40er:p%3Ass@relay.example:587?starttls=required")
        #expect(url.host == "relay.example" && url.port == 587 && url.username == "us@er" && url.password == "p:ss" && url.tls == .required)
        #expect(!url.description.contains("p:ss") && !url.description.contains("p%3Ass"))
        #expect(try SMTPURL(parsing: "smtp://127.0.0.1").port == 25)
        for bad in ["http://x", "smtp://", "smtp://h:70000", "smtp://u:topsecret@h?starttls=maybe", "smtp://h?foo=1", "smtp://:topsecret@h"] {
            do {
                _ = try SMTPURL(parsing: bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.description.hasPrefix("mail.smtp_url"))
                #expect(!error.description.contains("topsecret"))
            }
        }
    }

    @Test func retryPolicyBacksOffAndFailsPermanentRepliesAtOnce() {
        let policy = MailRetryPolicy(base: .seconds(60), cap: .seconds(600), maxAttempts: 5)
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(policy.decide(attempt: 1, permanent: false, now: now) == .retry(at: now.addingTimeInterval(60)))
        #expect(policy.decide(attempt: 2, permanent: false, now: now) == .retry(at: now.addingTimeInterval(120)))
        #expect(policy.decide(attempt: 4, permanent: false, now: now) == .retry(at: now.addingTimeInterval(480)))
        #expect(policy.delay(afterAttempt: 1_000_000) == 600)
        #expect(policy.decide(attempt: 5, permanent: false, now: now) == .fail)
        #expect(policy.decide(attempt: 1, permanent: true, now: now) == .fail)
    }
}
