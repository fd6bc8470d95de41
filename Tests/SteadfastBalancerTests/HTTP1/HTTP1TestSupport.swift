import NIOCore
import NIOHTTP1

@testable import SteadfastBalancer

/// Feeds text to the byte-level parsers the way the proxy's handlers do (unparsed bytes kept,
/// new bytes appended) and records what comes out in a comparable form.
enum HTTP1Feed {
    /// One event, with body pieces merged so that different splits of the input compare equal.
    enum Event: Equatable, CustomStringConvertible {
        case head(String)
        case body(String)
        case end(trailers: String?)
        case error(HTTP1ParseError)

        var description: String {
            switch self {
            case .head(let text): "head(\(text))"
            case .body(let text): "body(\(text.count) bytes)"
            case .end(let trailers): "end(\(trailers.map { $0.debugDescription } ?? "nil"))"
            case .error(let error): "error(\(error))"
            }
        }
    }

    static func describe(_ head: HTTP1RequestHead) -> String {
        let fields = head.fields.map { "\(head.string($0.name))=\(head.string($0.value))" }.joined(separator: ",")
        let version = head.version == .http1_1 ? "1.1" : "1.0"
        var text = "\(head.method.rawValue) \(head.string(head.target)) \(version) [\(fields)]"
        if let length = head.summary.contentLength { text += " length=\(length)" }
        if head.summary.chunked { text += " chunked" }
        if !head.isKeepAlive { text += " close" }
        return text
    }

    static func describe(_ head: HTTP1ResponseHead) -> String {
        let fields = head.fields.map { field in
            head.bytes.getString(at: head.bytes.readerIndex + field.name.lowerBound, length: field.name.count)! + "="
                + head.bytes.getString(at: head.bytes.readerIndex + field.value.lowerBound, length: field.value.count)!
        }
        let version = head.version == .http1_1 ? "1.1" : "1.0"
        var text = "\(version) \(head.status) [\(fields.joined(separator: ","))]"
        if !head.isKeepAlive { text += " close" }
        return text
    }

    private static func append(_ event: Event, to events: inout [Event]) {
        if case .body(let more) = event, case .body(let previous)? = events.last {
            events[events.count - 1] = .body(previous + more)
        } else {
            events.append(event)
        }
    }

    /// Requests parsed from `pieces`, delivered one after the other.
    static func requests(_ pieces: [String], maxHeadBytes: Int = 16384) -> [Event] {
        var parser = HTTP1RequestParser(maxHeadBytes: maxHeadBytes)
        var pending = ByteBuffer()
        var events: [Event] = []
        for piece in pieces {
            pending.writeString(piece)
            while true {
                do {
                    guard let event = try parser.next(&pending) else { break }
                    switch event {
                    case .head(let head): append(.head(describe(head)), to: &events)
                    case .body(let body): append(.body(String(buffer: body)), to: &events)
                    case .end(let trailers): append(.end(trailers: trailers.map { String(buffer: $0) }), to: &events)
                    }
                } catch {
                    events.append(.error(error))
                    return events
                }
            }
        }
        return events
    }

    static func requests(_ text: String, maxHeadBytes: Int = 16384) -> [Event] {
        requests([text], maxHeadBytes: maxHeadBytes)
    }

    /// Responses parsed from `pieces`; `requests` tells for each expected response whether it
    /// answers a HEAD request. `closed`: the connection ends after the last piece.
    static func responses(_ pieces: [String], toHEAD requests: [Bool] = [false], closed: Bool = false) -> [Event] {
        var parser = HTTP1ResponseParser()
        var expected = requests[...]
        parser.expectResponse(toHEAD: expected.popFirst() ?? false)
        var pending = ByteBuffer()
        var events: [Event] = []
        func record(_ event: HTTP1ResponseParser.Event) {
            switch event {
            case .head(let head): append(.head(describe(head)), to: &events)
            case .body(let body): append(.body(String(buffer: body)), to: &events)
            case .end(let trailers):
                append(.end(trailers: trailers.map { String(buffer: $0) }), to: &events)
                if let next = expected.popFirst() { parser.expectResponse(toHEAD: next) }
            }
        }
        do {
            for piece in pieces {
                pending.writeString(piece)
                while let event = try parser.next(&pending) { record(event) }
            }
            if closed, let event = try parser.endOfInput() { record(event) }
        } catch {
            events.append(.error(error))
        }
        return events
    }

    /// Every way of cutting `text` in two, plus byte by byte.
    static func splits(of text: String) -> [[String]] {
        let bytes = Array(text.utf8)
        var result: [[String]] = []
        for cut in 0...bytes.count {
            result.append([String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)])
        }
        result.append(bytes.map { String(decoding: [$0], as: UTF8.self) })
        return result
    }
}
