import Foundation
import NIOCore
import NIOPosix
import SteadfastMail
import SteadfastTestSupport
import Testing

/// `mail.send_timeout` bounds a delivery on the transport's clock (`withDeadline`): a relay that
/// accepts the connection and never answers is given up on at the limit, and not before; the
/// connection is closed. The limit runs on a `ManualClock` the test moves, so nothing waits 30 s.
@Suite(.timeLimit(.minutes(1))) struct SMTPTimeoutTests {
    @Test func aServerThatNeverAnswersIsGivenUpOnAtTheLimitOnTheClock() async throws {
        // A plain loopback TCP listener: it accepts, reads and discards, and never sends a greeting.
        let connections = LockedBox<[any Channel]>([])
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                connections.with { $0.append(channel) }
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let clock = ManualClock()
        let transport = SMTPMailTransport(
            url: SMTPURL(host: "127.0.0.1", port: port, tls: .opportunistic), heloName: "t.example", timeout: .seconds(30), clock: clock.steady
        )
        let envelope = SMTPEnvelope(from: "billing@steadfast.example", recipients: ["alice@example.org"], message: Array("Subject: t\r\n\r\nt\r\n".utf8))
        let outcome = LockedBox<Result<Void, any Error>?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await transport.send(envelope); outcome.with { $0 = .success(()) } } catch { outcome.with { $0 = .failure(error) } }
            }
            try await waitUntil("connected, with the limit asleep on the clock") {
                connections.value.count == 1 && clock.isSleeping(for: .seconds(30))
            }
            clock.advance(by: .seconds(29))
            // Nothing woke: the limit still sleeps on the clock, and the send waits for a greeting.
            #expect(clock.isSleeping(for: .seconds(30)))
            #expect(outcome.value == nil, "the send ended before its limit: \(String(describing: outcome.value))")
            clock.advance(by: .seconds(1))
            try await waitUntil("the send to give up", timeout: .seconds(20)) { outcome.value != nil }
            try await group.waitForAll()
        }
        guard case .failure(let error as SMTPFailure) = outcome.value else {
            Issue.record("expected an SMTPFailure, got \(String(describing: outcome.value))")
            return
        }
        #expect(error.stage == "connection" && error.message == "timed out after 30s" && !error.isPermanent, "\(error)")
        // The client closed its connection at the limit.
        try await waitUntil("the server's side of the connection to close", timeout: .seconds(20)) { !connections.value[0].isActive }
        try await server.close()
    }
}
