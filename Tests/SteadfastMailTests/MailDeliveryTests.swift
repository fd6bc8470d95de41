import Foundation
import Logging
import SteadfastDomain
import SteadfastPersistence
import SteadfastTestSupport
import Synchronization
import Testing
@testable import SteadfastMail

/// The outbox and delivery against a real SMTP server (aiosmtpd) on both engines.
@Suite("Mail delivery", .serialized)
struct MailDeliveryTests {
    static let settings = MailDeliverySettings(
        from: Mailbox(address: "billing@steadfast.example", name: "Steadfast"), claimLease: .seconds(120),
        retry: MailRetryPolicy(base: .seconds(60), cap: .seconds(3600), maxAttempts: 3)
    )

    func transport(_ server: SMTPTestServer) -> SMTPMailTransport {
        SMTPMailTransport(url: SMTPURL(host: "127.0.0.1", port: server.port, tls: .opportunistic), heloName: "test.example", timeout: .seconds(20))
    }

    func delivery(_ db: any SQLDatabase, _ transport: any MailTransport, node: String, clock: any WallClock) -> MailDelivery {
        MailDelivery(database: db, transport: transport, settings: Self.settings, node: node, clock: clock, logger: Logger(label: "test"))
    }

    @discardableResult
    func enqueue(_ db: any SQLDatabase, _ n: Int, clock: ManualClock, dedupe: String? = nil) async throws -> [UUID] {
        var ids: [UUID] = []
        for index in 0..<n {
            let id = try await db.transaction { tx in
                try await MailOutbox().enqueue(
                    tx, .invoiceIssued, to: try MailRecipient(address: "client\(index)@example.org", name: "Clïent \(index)"),
                    values: ["invoice_number": "INV-\(index)", "amount": "€1.00", "due_date": "2026-12-31", "invoice_url": "/x"],
                    dedupeKey: dedupe.map { "\($0):\(index)" }, now: clock.now()
                )
            }
            if let id { ids.append(id) }
        }
        return ids
    }

    static func messageID(_ raw: [UInt8]) -> String? {
        let text = String(decoding: raw, as: UTF8.self)
        return text.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("message-id:") }.map { String($0.dropFirst("Message-ID:".count)).trimmingCharacters(in: .whitespaces) }
    }

    @Test(arguments: EngineKind.allCases)
    func deliversEachMessageOnceWithItsStoredMessageID(_ kind: EngineKind) async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let ids = try await enqueue(db, 3, clock: clock, dedupe: "event")
            #expect(ids.count == 3)
            // The same events again: the dedupe key keeps them out.
            #expect(try await enqueue(db, 3, clock: clock, dedupe: "event").isEmpty)
            let report = try await delivery(db, transport(server), node: "a", clock: clock).deliverDue()
            #expect(report.sent == 3 && report.retried == 0 && report.failed == 0)
            #expect(try await delivery(db, transport(server), node: "a", clock: clock).deliverDue().sent == 0)
            let received = server.messages()
            #expect(received.count == 3)
            let repository = MailOutboxRepository(db)
            var stored: Set<String> = []
            for id in ids {
                let mail = try #require(try await repository.find(id: id))
                #expect(mail.state == .sent && mail.attempts == 1)
                stored.insert(try #require(mail.messageID))
            }
            #expect(Set(received.compactMap(Self.messageID)) == stored)
            let first = String(decoding: received[0], as: UTF8.self)
            #expect(first.contains("X-Envelope-From: billing@steadfast.example"))
            #expect(first.contains("Subject: Invoice INV-"))
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aTemporaryFailureIsRetriedAfterTheBackoffWithTheSameMessageID(_ kind: EngineKind) async throws {
        let server = try await SMTPTestServer.start(mode: .tempfail(1))
        defer { server.stop() }
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let id = try #require(try await enqueue(db, 1, clock: clock).first)
            let sender = delivery(db, transport(server), node: "a", clock: clock)
            #expect(try await sender.deliverDue().retried == 1)
            let waiting = try #require(try await MailOutboxRepository(db).find(id: id))
            #expect(waiting.state == .pending && waiting.lastError?.contains("451") == true)
            // Not before the backoff has passed.
            clock.advance(by: 59)
            #expect(try await sender.deliverDue().sent == 0)
            clock.advance(by: 2)
            #expect(try await sender.deliverDue().sent == 1)
            let attempts = server.attempts()
            #expect(attempts.map(\.code) == [451, 250])
            #expect(attempts[0].messageID == attempts[1].messageID && attempts[0].messageID == waiting.messageID)
            #expect(server.messages().count == 1)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aPermanentRefusalMarksTheMessageFailedForStaff(_ kind: EngineKind) async throws {
        let server = try await SMTPTestServer.start(mode: .reject)
        defer { server.stop() }
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let id = try #require(try await enqueue(db, 1, clock: clock).first)
            #expect(try await delivery(db, transport(server), node: "a", clock: clock).deliverDue().failed == 1)
            let failed = try await MailOutboxRepository(db).list(state: .failed, limit: 10, offset: 0)
            #expect(failed.map(\.id) == [id])
            #expect(failed[0].lastError?.contains("550") == true && failed[0].attempts == 1)
            clock.advance(by: 7200)
            #expect(try await delivery(db, transport(server), node: "a", clock: clock).deliverDue().failed == 0)
            #expect(server.attempts().count == 1)
        }
    }

    @Test(arguments: EngineKind.allCases)
    func aMessageLeftSendingByADeadNodeIsSentAgainOnlyAfterItsLeaseWithTheSameMessageID(_ kind: EngineKind) async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        try await withDatabase(kind) { db in
            let clock = ManualClock()
            let ids = try await enqueue(db, 2, clock: clock)
            // Node A claims the first message and dies before marking it.
            let claimed = try await db.transaction { tx in
                try await MailOutboxRepository(tx).claimNext(node: "a", now: clock.now(), lease: .seconds(120), newMessageID: "<dead-node@steadfast.example>")
            }
            #expect(claimed?.id == ids[0])
            let b = delivery(db, transport(server), node: "b", clock: clock)
            #expect(try await b.deliverDue().sent == 1)  // only the other message
            #expect(server.messages().count == 1)
            clock.advance(by: 121)
            #expect(try await b.deliverDue().sent == 1)
            let resent = try #require(try await MailOutboxRepository(db).find(id: ids[0]))
            #expect(resent.messageID == "<dead-node@steadfast.example>" && resent.attempts == 2 && resent.claimToken == 2)
            #expect(server.messages().compactMap(Self.messageID).contains("<dead-node@steadfast.example>"))
            // Node A wakes up: its marks are refused by the claim token.
            #expect(try await MailOutboxRepository(db).markSent(id: ids[0], claimToken: 1, now: clock.now()) == false)
        }
    }

    /// Both nodes really deliver at once: each node's first send waits until the other node is
    /// sending too, so the overlap does not depend on how soon the machine runs the second node
    /// (on a loaded one the first could send all 40 before the second claimed anything).
    @Test func twoNodesDeliveringAtOnceSendEveryMessageExactlyOnce() async throws {
        let server = try await SMTPTestServer.start()
        defer { server.stop() }
        try await withDatabases(.postgres, connections: 2) { dbs in
            let clock = ManualClock()
            let ids = try await enqueue(dbs[0], 40, clock: clock)
            let meeting = Meeting(of: 2)
            async let a = delivery(dbs[0], MeetingTransport(node: "a", meeting: meeting, inner: transport(server)), node: "a", clock: clock).deliverDue()
            async let b = delivery(dbs[1], MeetingTransport(node: "b", meeting: meeting, inner: transport(server)), node: "b", clock: clock).deliverDue()
            let (ra, rb) = try await (a, b)
            #expect(meeting.met, "the two nodes were never sending at the same time (a claim waited for the other node's batch?)")
            #expect(ra.sent + rb.sent == 40)
            #expect(ra.sent > 0 && rb.sent > 0, "both nodes should have taken part: \(ra.sent)/\(rb.sent)")
            let received = server.messages().compactMap(Self.messageID)
            #expect(received.count == 40 && Set(received).count == 40)
            #expect(ids.count == 40)
        }
    }
}

/// A meeting point for nodes' first sends: each waits there until all `count` nodes have come,
/// so they send at the same time. Whoever waits in vain (30 s) gives up, and the meeting is
/// over, not met: a later arrival does not count as having met.
final class Meeting: Sendable {
    private struct State {
        var arrived: Set<String> = []
        var met = false
        var over = false
    }

    private let state = Mutex(State())
    private let count: Int

    init(of count: Int) { self.count = count }

    /// Whether every node was here, waiting, at once.
    var met: Bool { state.withLock { $0.met } }

    /// Waits, the first time `node` comes, until every node is here; at once otherwise.
    func attend(_ node: String) async {
        let waits = state.withLock { state -> Bool in
            guard !state.over, state.arrived.insert(node).inserted else { return false }
            if state.arrived.count == count { state.met = true; state.over = true }
            return true
        }
        guard waits else { return }
        if await !eventually(timeout: .seconds(30), interval: .milliseconds(5), { self.met }) {
            state.withLock { $0.over = true }
        }
    }
}

/// A node's transport whose first send waits at the ``Meeting`` for the other nodes'.
struct MeetingTransport: MailTransport {
    let node: String
    let meeting: Meeting
    let inner: any MailTransport

    func send(_ envelope: SMTPEnvelope) async throws {
        await meeting.attend(node)
        try await inner.send(envelope)
    }
}
