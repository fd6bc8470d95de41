import Foundation
import NIOCore
import NIOTLS
import SteadfastConcurrency
import SteadfastDomain
import NIOPosix
import NIOSSL

/// `mail.transport: smtp`: delivers each message over one SMTP connection to the relay in
/// `mail.smtp_url`, driving ``SMTPSession`` with SwiftNIO (STARTTLS through NIOSSL, verifying the
/// server's certificate against the system's trust roots).
public struct SMTPMailTransport: MailTransport {
    let url: SMTPURL
    let heloName: String
    /// The longest one delivery may take, connection included: the exchange is cancelled then
    /// (``withDeadline(_:clock:_:)`` on ``clock``) and the connection closed.
    let timeout: Duration
    /// The clock ``timeout`` is measured on: `ContinuousClock` in production, a test's clock in
    /// tests. (The TCP connect's own limit, at most 10 s, is NIO's timer, inside this one.)
    let clock: any Clock<Duration>
    let group: any EventLoopGroup
    let tlsConfiguration: TLSConfiguration

    public init(
        url: SMTPURL, heloName: String, timeout: Duration, clock: any Clock<Duration> = ContinuousClock(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tlsConfiguration: TLSConfiguration = .makeClientConfiguration()
    ) {
        self.url = url
        self.heloName = heloName
        self.timeout = timeout
        self.clock = clock
        self.group = group
        self.tlsConfiguration = tlsConfiguration
    }

    /// Delivers `envelope`, or throws ``SMTPFailure``: at ``timeout``, a `connection` failure
    /// (not permanent: the message is retried), once the exchange has ended.
    public func send(_ envelope: SMTPEnvelope) async throws {
        do {
            try await withDeadline(timeout, clock: clock) { try await exchange(envelope) }
        } catch is DeadlineExceeded {
            throw SMTPFailure(stage: "connection", reply: nil, message: "timed out after \(DurationText.format(timeout))")
        }
    }

    /// One delivery over a new connection. Ends when cancelled: the connection is closed then,
    /// which ends its reads, writes and a TLS handshake in progress (NIO's waits do not end on
    /// cancellation themselves).
    private func exchange(_ envelope: SMTPEnvelope) async throws {
        let settings = SMTPSessionSettings(
            heloName: heloName, tls: url.tls, username: url.username, password: url.password, allowPlaintextAuth: url.isLoopback
        )
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(TimeAmount(min(.seconds(10), max(.seconds(1), timeout))))
                .connect(host: url.host, port: url.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw SMTPFailure(stage: "connect", reply: nil, message: "cannot connect to \(url.host):\(url.port): \(type(of: error))")
        }
        try await withTaskCancellationHandler {
            try await converse(envelope, settings: settings, over: channel)
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    private func converse(_ envelope: SMTPEnvelope, settings: SMTPSessionSettings, over channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(settings: settings, envelope: envelope)
            var parser = SMTPReplyParser()
            var pending: [SMTPSession.Event] = []
            var reads = inbound.makeAsyncIterator()
            while true {
                if pending.isEmpty {
                    guard let buffer = try await reads.next() else {
                        throw SMTPFailure(stage: "connection", reply: nil, message: "the server closed the connection")
                    }
                    do { pending = try parser.feed(buffer.readableBytesView).map { .reply($0) } } catch {
                        throw SMTPFailure(stage: "reply", reply: nil, message: "\(error)")
                    }
                    continue
                }
                let event = pending.removeFirst()
                switch session.handle(event) {
                case .send(let line):
                    try await outbound.write(ByteBuffer(string: line + "\r\n"))
                case .sendData(let bytes):
                    try await outbound.write(ByteBuffer(bytes: bytes))
                case .startTLS:
                    // Anything the server sent after its 220 would be read as if it came over TLS
                    // (the STARTTLS injection attack): refuse.
                    guard pending.isEmpty, !parser.isMidReply else {
                        throw SMTPFailure(stage: "starttls", reply: nil, message: "the server sent data after its STARTTLS reply")
                    }
                    try await startTLS(on: channel.channel)
                    pending.append(.tlsEstablished)
                case .delivered:
                    try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                    return
                case .fail(let failure):
                    try? await outbound.write(ByteBuffer(string: "QUIT\r\n"))
                    throw failure
                }
            }
        }
    }

    func startTLS(on channel: any Channel) async throws {
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: tlsConfiguration) } catch {
            throw SMTPFailure(stage: "starttls", reply: nil, message: "TLS set-up failed: \(error)")
        }
        let host = url.host
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            do {
                let tls = try NIOSSLClientHandler(context: context, serverHostname: host.first?.isNumber == true ? nil : host)
                let waiter = TLSHandshakeWaiter(promise: done)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
                try channel.pipeline.syncOperations.addHandler(waiter, position: .after(tls))
            } catch {
                done.fail(error)
            }
        }
        do { try await done.futureResult.get() } catch {
            throw SMTPFailure(stage: "starttls", reply: nil, message: "TLS handshake failed: \(error)")
        }
    }
}

/// Completes a promise when the TLS handshake finishes (or fails), then stays out of the way.
final class TLSHandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private var promise: EventLoopPromise<Void>?

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
            promise?.succeed()
            promise = nil
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise?.fail(error)
        promise = nil
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise?.fail(ChannelError.ioOnClosedChannel)
        promise = nil
        context.fireChannelInactive()
    }
}
