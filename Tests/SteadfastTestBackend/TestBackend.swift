import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small real HTTP backend for the balancer's live tests. Usage:
/// `SteadfastTestBackend --name NAME [--port 0] [--post-log FILE]`; prints `listening PORT`.
///
/// - `GET /readyz` → 200, or 503 after `POST /_control/drain` (until `POST /_control/ready`);
/// - `GET /_stats` → `{"name": ..., "requests": N}` (every request except `/readyz` and `/_stats`);
/// - `POST /_control/status?code=N` → from then on every request other than `/readyz`, `/_stats`
///   and `/_control/...` is answered with status N (a sick application behind a healthy
///   `/readyz`); `code=0` goes back to normal answers;
/// - `GET /slow?ms=N` → answers after N ms;
/// - `GET /status?code=N` → answers with status N;
/// - `GET /big?bytes=N` → N bytes, streamed in 64 KiB chunks;
/// - `GET /chunked?parts=N&size=M` → N parts of M bytes (part i repeats letter `a` + i % 26)
///   with `Transfer-Encoding: chunked` (no Content-Length);
/// - `GET /until-close?bytes=N` → N bytes with neither Content-Length nor Transfer-Encoding,
///   ended by closing the connection (RFC 9112 §6.3, the last resort of old servers);
/// - `GET /headers` → the request headers it received, one `name: value` per line;
/// - `GET /crash` → the process exits at once (`_exit(70)`, no answer, no clean-up) after
///   reading the whole request: a "query of death";
/// - `GET /connection-names-length` → a 200 whose `Connection` names its `Content-Length`
///   (a backend trying to make the proxy mis-frame what it sends the client);
/// - `GET /garbage` → `HTTP/1.1 200 OK` with `Content-Length: abc`: bytes that are not a valid
///   response;
/// - `POST /echo` → the body back;
/// - any other `POST` → appends its `X-Test-ID` to the post log once the whole request arrived
///   (so a killed backend's record survives), then answers 200;
/// - anything else → 200 with the backend's name as body.
/// Every answer carries `X-Backend: NAME`.
@main
struct TestBackend {
    static func main() throws {
        var name = "backend"
        var port = 0
        var postLog: String?
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--name": name = arguments.next() ?? name
            case "--port": port = Int(arguments.next() ?? "0") ?? 0
            case "--post-log": postLog = arguments.next()
            default: fatalError("unknown argument \(argument)")
            }
        }
        let state = BackendState(name: name, postLogPath: postLog)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 512)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BackendHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: port)
            .wait()
        FileHandle.standardOutput.write(Data("listening \(channel.localAddress?.port ?? 0)\n".utf8))
        try channel.closeFuture.wait()
    }
}

/// Counters and switches shared by all connections of the test backend.
final class BackendState: Sendable {
    let name: String
    let requests = Atomic<Int>(0)
    let draining = Atomic<Bool>(false)
    /// Status forced on ordinary requests by `POST /_control/status?code=N`; 0: none.
    let forcedStatus = Atomic<Int>(0)
    private let postLog: Mutex<FileHandle?>

    init(name: String, postLogPath: String?) {
        self.name = name
        if let postLogPath {
            if !FileManager.default.fileExists(atPath: postLogPath) {
                _ = FileManager.default.createFile(atPath: postLogPath, contents: nil)
            }
            let handle = FileHandle(forWritingAtPath: postLogPath)
            handle?.seekToEndOfFile()
            self.postLog = Mutex(handle)
        } else {
            self.postLog = Mutex(nil)
        }
    }

    /// Appends one line with a single write(2), which survives a kill -9 of this process.
    func logPost(_ id: String) {
        postLog.withLock { $0?.write(Data("\(id)\n".utf8)) }
    }
}

/// One connection of the test backend.
final class BackendHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let state: BackendState
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?

    init(state: BackendState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            self.body = context.channel.allocator.buffer(capacity: 0)
        case .body(var chunk):
            body?.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            handle(context, head: head, body: body ?? ByteBuffer())
            self.head = nil
            self.body = nil
        }
    }

    private func handle(_ context: ChannelHandlerContext, head: HTTPRequestHead, body: ByteBuffer) {
        let components = URLComponents(string: head.uri)
        let path = components?.path ?? head.uri
        let query = Dictionary(
            (components?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { first, _ in first }
        )
        if path != "/readyz" && path != "/_stats" { state.requests.add(1, ordering: .relaxed) }
        let forced = state.forcedStatus.load(ordering: .relaxed)
        if forced != 0 && path != "/readyz" && path != "/_stats" && !path.hasPrefix("/_control/") {
            return respond(context, head, status: HTTPResponseStatus(statusCode: forced), body: state.name)
        }
        switch (head.method, path) {
        case (.GET, "/readyz"):
            let draining = state.draining.load(ordering: .relaxed)
            respond(context, head, status: draining ? .serviceUnavailable : .ok, body: draining ? "draining\n" : "ready\n")
        case (.POST, "/_control/drain"):
            state.draining.store(true, ordering: .relaxed)
            respond(context, head, status: .ok, body: "draining\n")
        case (.POST, "/_control/ready"):
            state.draining.store(false, ordering: .relaxed)
            respond(context, head, status: .ok, body: "ready\n")
        case (.POST, "/_control/status"):
            state.forcedStatus.store(Int(query["code"] ?? "") ?? 0, ordering: .relaxed)
            respond(context, head, status: .ok, body: "status \(query["code"] ?? "0")\n")
        case (.GET, "/_stats"):
            respond(context, head, status: .ok, body: "{\"name\": \"\(state.name)\", \"requests\": \(state.requests.load(ordering: .relaxed))}\n")
        case (.GET, "/slow"):
            let milliseconds = Int64(query["ms"] ?? "") ?? 500
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(milliseconds)) {
                let (handler, context) = bound.value
                handler.respond(context, head, status: .ok, body: handler.state.name)
            }
        case (.GET, "/status"):
            let code = Int(query["code"] ?? "") ?? 200
            respond(context, head, status: HTTPResponseStatus(statusCode: code), body: state.name)
        case (.GET, "/big"):
            streamBig(context, head, bytes: Int(query["bytes"] ?? "") ?? 1_000_000)
        case (.GET, "/chunked"):
            streamChunked(context, head, parts: Int(query["parts"] ?? "") ?? 10, size: Int(query["size"] ?? "") ?? 100)
        case (.GET, "/until-close"):
            sendUntilClose(context, bytes: Int(query["bytes"] ?? "") ?? 1000)
        case (.GET, "/crash"):
            FileHandle.standardError.write(Data("crashing on purpose\n".utf8))
            _exit(70)
        case (.GET, "/connection-names-length"):
            sendRaw(context, "HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\nx-backend: \(state.name)\r\n\r\nhello")
        case (.GET, "/garbage"):
            sendRaw(context, "HTTP/1.1 200 OK\r\nContent-Length: abc\r\nx-backend: \(state.name)\r\n\r\n")
        case (.GET, "/headers"):
            let text = head.headers.map { "\($0.name.lowercased()): \($0.value)\n" }.joined()
            respond(context, head, status: .ok, body: text)
        case (.POST, "/echo"):
            respond(context, head, status: .ok, bodyBuffer: body)
        case (.POST, _):
            state.logPost(head.headers.first(name: "x-test-id") ?? "-")
            respond(context, head, status: .ok, body: state.name)
        default:
            respond(context, head, status: .ok, body: state.name)
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, status: HTTPResponseStatus, body: String) {
        respond(context, request, status: status, bodyBuffer: context.channel.allocator.buffer(string: body))
    }

    private func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, status: HTTPResponseStatus, bodyBuffer: ByteBuffer) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(bodyBuffer.readableBytes))
        headers.add(name: "x-backend", value: state.name)
        if !request.isKeepAlive { headers.add(name: "connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(bodyBuffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !request.isKeepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    private func streamChunked(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, parts: Int, size: Int) {
        var headers = HTTPHeaders()
        headers.add(name: "transfer-encoding", value: "chunked")
        headers.add(name: "x-backend", value: state.name)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
        for index in 0..<parts {
            let part = context.channel.allocator.buffer(repeating: UInt8(ascii: "a") + UInt8(index % 26), count: size)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(part))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    /// Writes `text` as raw bytes below NIOHTTP1's encoder (which would check and add framing).
    private func sendRaw(_ context: ChannelHandlerContext, _ text: String) {
        guard let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else {
            context.close(promise: nil)
            return
        }
        encoder.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil)
    }

    /// Writes the response as raw bytes below NIOHTTP1's encoder (which would add framing), then
    /// closes the connection to end the body.
    private func sendUntilClose(_ context: ChannelHandlerContext, bytes: Int) {
        guard let encoder = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self) else {
            context.close(promise: nil)
            return
        }
        var raw = context.channel.allocator.buffer(string: "HTTP/1.1 200 OK\r\nx-backend: \(state.name)\r\ncontent-type: text/plain\r\n\r\n")
        raw.writeRepeatingByte(UInt8(ascii: "z"), count: bytes)
        // Written from the encoder's own context, the bytes go to the handlers before it only.
        encoder.writeAndFlush(NIOAny(raw)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func streamBig(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, bytes: Int) {
        var headers = HTTPHeaders()
        headers.add(name: "content-length", value: String(bytes))
        headers.add(name: "x-backend", value: state.name)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .ok, headers: headers))), promise: nil)
        var remaining = bytes
        let chunk = context.channel.allocator.buffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
        while remaining > 0 {
            let size = min(remaining, chunk.readableBytes)
            context.write(wrapOutboundOut(.body(.byteBuffer(chunk.getSlice(at: 0, length: size)!))), promise: nil)
            remaining -= size
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
