import Foundation
import SteadfastTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to 127.0.0.1 for sending deliberately malformed HTTP, byte by byte if
/// need be. Blocking calls run on a Dispatch queue so the test's async threads stay free.
final class RawHTTPConnection: @unchecked Sendable {
    // @unchecked: the descriptor is only used by one test at a time, sequentially (each call
    // awaits the previous), so there is no concurrent access.
    private let fd: Int32

    init(port: Int) throws {
        guard let fd = FreePort.connectLoopback(port: port) else { throw RawError(message: "connect failed: \(errno)") }
        self.fd = fd
        var timeout = timeval(tv_sec: 15, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        signal(SIGPIPE, SIG_IGN)
    }

    deinit { close(fd) }

    struct RawError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Sends bytes; returns false if the peer already closed.
    @discardableResult
    func send(_ text: String) async -> Bool {
        await send(Array(text.utf8))
    }

    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        await onQueue {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// Reads until the peer closes (or 15 s pass); returns what arrived.
    func readUntilClosed() async -> String {
        await onQueue {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count <= 0 { break }
                data.append(contentsOf: buffer[0..<count])
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    /// How a read ended.
    enum End: Sendable, Equatable {
        /// The peer closed the connection (end of stream).
        case closed
        /// The peer reset the connection (as when it closes with unread data from us).
        case reset
        /// Nothing more arrived for 15 s and the connection is still open: silence, not a close.
        case timedOut
        /// Some other receive error.
        case failed(Int32)
    }

    /// Reads until the peer closes, resets, or 15 s pass in silence; returns what arrived and
    /// which of those ended it — unlike ``readUntilClosed()``, a silent peer is told apart from
    /// one that closed.
    func readUntilEnd() async -> (text: String, end: End) {
        await onQueue {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count > 0 {
                    data.append(contentsOf: buffer[0..<count])
                    continue
                }
                let end: End
                if count == 0 {
                    end = .closed
                } else {
                    switch errno {
                    case EINTR: continue
                    case ECONNRESET: end = .reset
                    case EAGAIN, EWOULDBLOCK: end = .timedOut
                    case let other: end = .failed(other)
                    }
                }
                return (String(decoding: data, as: UTF8.self), end)
            }
        }
    }

    /// Reads one response head and a body of `content-length` bytes.
    func readResponse() async -> String {
        await onQueue {
            var data = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let text = String(decoding: data, as: UTF8.self)
                if let range = text.range(of: "\r\n\r\n") {
                    let head = text[..<range.lowerBound].lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if text.utf8.count - text[..<range.upperBound].utf8.count >= length { return text }
                }
                let count = recv(self.fd, &buffer, buffer.count, 0)
                if count <= 0 { return text }
                data.append(contentsOf: buffer[0..<count])
            }
        }
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
