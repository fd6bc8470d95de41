import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import SteadfastBalancer

#if canImport(Glibc)
import Glibc
#endif

/// Differential fuzzing of the balancer's HTTP/1 head parsers against NIOHTTP1's decoder
/// (llhttp): generated and mutated requests and responses go through both; any input that one
/// accepts and the other refuses, or that both accept but frame differently (no body / length /
/// chunked / until close, or a different body length), fails the test unless it is one of the
/// deliberate differences listed with their reasons in docs/balancer.md (*Parser differences
/// from NIOHTTP1*), which ``KnownDifference`` encodes.
///
/// Fixed seed, so a run is reproducible; `FUZZ_ITERATIONS` (default 3000 of each) sets the
/// count and `FUZZ_SEED` the seed. NIOHTTP1 runs in a real channel on one end of a Unix socket
/// pair (the input is written to the other end, which is then shut down for writing), since the
/// test target has no EmbeddedChannel.
@Suite("differential fuzz against NIOHTTP1", .serialized)
struct DifferentialFuzzTests {
    static var iterations: Int { ProcessInfo.processInfo.environment["FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3000 }
    static var seed: UInt64 { ProcessInfo.processInfo.environment["FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_F00D }

    /// How a parser saw the first message of an input.
    enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// Refused (a parse error before the first message ended).
        case refused(String)
        /// Neither refused nor complete when the input ended.
        case incomplete
        /// A complete first message: its framing and body length.
        case message(Framing, body: Int)

        var accepted: Bool {
            if case .message = self { return true }
            return false
        }

        var description: String {
            switch self {
            case .refused(let why): "refused(\(why))"
            case .incomplete: "incomplete"
            case .message(let framing, let body): "\(framing)(\(body) bytes)"
            }
        }
    }

    enum Framing: Equatable, Sendable {
        case noBody, length, chunked, untilClose
    }

    // MARK: The balancer's parsers

    static func ours(request bytes: [UInt8]) -> Outcome {
        var parser = HTTP1RequestParser(maxHeadBytes: 64 * 1024)
        var buffer = ByteBuffer(bytes: bytes)
        var framing: Framing?
        var body = 0
        do {
            while let event = try parser.next(&buffer) {
                switch event {
                case .head(let head):
                    framing = head.summary.chunked ? .chunked : head.summary.contentLength != nil ? .length : .noBody
                case .body(let data):
                    body += data.readableBytes
                case .end:
                    return .message(framing ?? .noBody, body: body)
                }
            }
        } catch {
            return .refused("\(error)")
        }
        return .incomplete
    }

    static func ours(response bytes: [UInt8]) -> Outcome {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(toHEAD: false)
        var buffer = ByteBuffer(bytes: bytes)
        var framing: Framing?
        var body = 0
        func record(_ event: HTTP1ResponseParser.Event) -> Outcome? {
            switch event {
            case .head(let head):
                if head.statusForbidsBody {
                    framing = .noBody
                } else {
                    framing = head.summary.chunked ? .chunked : head.summary.contentLength != nil ? .length : .untilClose
                }
            case .body(let data):
                body += data.readableBytes
            case .end:
                return .message(framing ?? .noBody, body: body)
            }
            return nil
        }
        do {
            while let event = try parser.next(&buffer) {
                if let done = record(event) { return done }
            }
            if let event = try parser.endOfInput(), let done = record(event) { return done }
        } catch {
            return .refused("\(error)")
        }
        return .incomplete
    }

    // MARK: NIOHTTP1

    /// Collects what NIOHTTP1's decoder makes of the first message, until the channel closes.
    final class Collector<Part>: ChannelInboundHandler {
        typealias InboundIn = Part
        private let promise: EventLoopPromise<Outcome>
        private let describe: (Part) -> PartKind
        private var framing: Framing?
        private var body = 0
        private var done = false

        enum PartKind {
            case head(Framing)
            case body(Int)
            case end
        }

        init(promise: EventLoopPromise<Outcome>, describe: @escaping (Part) -> PartKind) {
            self.promise = promise
            self.describe = describe
        }

        private func finish(_ outcome: Outcome, _ context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            promise.succeed(outcome)
            context.close(promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !done else { return }
            switch describe(unwrapInboundIn(data)) {
            case .head(let framing): self.framing = framing
            case .body(let count): body += count
            case .end: finish(.message(framing ?? .noBody, body: body), context)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            if let error = error as? HTTPParserError, error == .invalidEOFState {
                finish(.incomplete, context)
            } else {
                finish(.refused("\(error)"), context)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !done {
                done = true
                promise.succeed(.incomplete)
            }
        }
    }

    static func framing(of headers: HTTPHeaders, response: Bool) -> Framing {
        if headers[canonicalForm: "transfer-encoding"].contains(where: { $0.lowercased() == "chunked" }) { return .chunked }
        if headers.contains(name: "content-length") { return .length }
        return response ? .untilClose : .noBody
    }

    static func nio(_ bytes: [UInt8], response: Bool, group: any EventLoopGroup) async throws -> Outcome {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw ChannelError.ioOnClosedChannel }
        let promise = group.next().makePromise(of: Outcome.self)
        let channel = try await NIOPipeBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if response {
                        try pipeline.addHandler(HTTPRequestEncoder())
                        try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder()))
                        try pipeline.addHandler(
                            Collector<HTTPClientResponsePart>(promise: promise) { part in
                                switch part {
                                case .head(let head):
                                    let noBody = head.status.code < 200 || head.status.code == 204 || head.status.code == 304
                                    return .head(noBody ? .noBody : framing(of: head.headers, response: true))
                                case .body(let data): return .body(data.readableBytes)
                                case .end: return .end
                                }
                            }
                        )
                    } else {
                        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                        try pipeline.addHandler(
                            Collector<HTTPServerRequestPart>(promise: promise) { part in
                                switch part {
                                case .head(let head): return .head(framing(of: head.headers, response: false))
                                case .body(let data): return .body(data.readableBytes)
                                case .end: return .end
                                }
                            }
                        )
                    }
                }
            }
            .takingOwnershipOfDescriptor(inputOutput: fds[0])
            .get()
        if response {
            // The decoder learns from the request it sees going out whether a body may follow.
            try await channel.writeAndFlush(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")))
        }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fds[1], raw.baseAddress! + offset, raw.count - offset)
                if written <= 0 { break }
                offset += written
            }
        }
        shutdown(fds[1], Int32(SHUT_WR))
        defer { close(fds[1]) }
        let outcome = try await promise.futureResult.get()
        try? await channel.closeFuture.get()
        return outcome
    }

    // MARK: The test

    @Test func requestHeadsAreFramedLikeNIOHTTP1Does() async throws {
        try await Self.compare(response: false)
    }

    @Test func responseHeadsAreFramedLikeNIOHTTP1Does() async throws {
        try await Self.compare(response: true)
    }

    static func compare(response: Bool) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var random = SplitMix64(seed: seed &+ (response ? 1 : 0))
        var unexplained: [String] = []
        var excused: [String: Int] = [:]
        var agreed = 0
        for iteration in 0..<iterations {
            var generator = FuzzInput(random: random)
            let input = response ? generator.response() : generator.request()
            random = generator.random
            let mine = response ? ours(response: input) : ours(request: input)
            let theirs = try await nio(input, response: response, group: group)
            if mine == theirs || (!mine.accepted && !theirs.accepted) {
                agreed += 1
                continue
            }
            if let reason = KnownDifference.explain(input, ours: mine, nio: theirs, response: response) {
                excused[reason.rawValue, default: 0] += 1
                continue
            }
            if unexplained.count < 20 {
                let text = String(decoding: input, as: UTF8.self).debugDescription
                unexplained.append("#\(iteration) ours \(mine) vs NIOHTTP1 \(theirs): \(text.prefix(400))")
            }
        }
        try await group.shutdownGracefully()
        #expect(unexplained.isEmpty, "\(unexplained.count) unexplained differences:\n\(unexplained.joined(separator: "\n"))")
        #expect(agreed > iterations / 4, "the generator should mostly produce inputs both parsers agree on (\(agreed) of \(iterations))")
        print("differential fuzz (\(response ? "responses" : "requests")): \(iterations) inputs, \(agreed) agreed, excused \(excused)")
    }
}
