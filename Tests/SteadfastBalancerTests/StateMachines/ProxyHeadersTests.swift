import NIOCore
import NIOHTTP1
import Testing

@testable import SteadfastBalancer

@Suite("ProxyHeaders")
struct ProxyHeadersTests {
    static func requestHead(_ text: String) throws -> HTTP1RequestHead {
        var parser = HTTP1RequestParser(maxHeadBytes: 16384)
        var buffer = ByteBuffer(string: text)
        guard case .head(let head)? = try parser.next(&buffer) else { throw HTTP1ParseError.truncatedMessage }
        return head
    }

    static func responseHead(_ text: String) throws -> HTTP1ResponseHead {
        var parser = HTTP1ResponseParser()
        parser.expectResponse(toHEAD: false)
        var buffer = ByteBuffer(string: text)
        guard case .head(let head)? = try parser.next(&buffer) else { throw HTTP1ParseError.truncatedMessage }
        return head
    }

    static func forward(_ text: String, clientIP: String? = "127.0.0.1", scheme: String = "http", requestID: String = "rid") throws -> String {
        var out = ByteBuffer()
        ProxyHeaders.writeForwardRequest(try requestHead(text), clientIP: clientIP, scheme: scheme, requestID: requestID, into: &out)
        return String(buffer: out)
    }

    @Test func hopByHopFieldsAreRemovedAndForwardedFieldsAdded() throws {
        let forwarded = try Self.forward(
            "POST /x HTTP/1.1\r\nHost: portal.example\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\nKeep-Alive: timeout=5\r\n"
                + "Upgrade: websocket\r\nTE: trailers\r\nX-Forwarded-For: 10.0.0.1\r\nX-Other: keep me\r\nTransfer-Encoding: chunked\r\n\r\n",
            scheme: "https"
        )
        #expect(
            forwarded
                == "POST /x HTTP/1.1\r\nHost: portal.example\r\nX-Other: keep me\r\ntransfer-encoding: chunked\r\n"
                + "x-forwarded-for: 10.0.0.1, 127.0.0.1\r\nx-forwarded-proto: https\r\nx-forwarded-host: portal.example\r\nx-request-id: rid\r\n\r\n"
        )
    }

    @Test func fieldsTheProxyDoesNotActOnGoThroughUntouched() throws {
        let forwarded = try Self.forward("GET /a?b=c HTTP/1.1\r\nhOsT: h\r\nAccept:  */*  \r\nX-Forwarded-Proto: ftp\r\nX-Request-ID: x\r\n\r\n")
        #expect(forwarded == "GET /a?b=c HTTP/1.1\r\nhOsT: h\r\nAccept:  */*  \r\nx-forwarded-for: 127.0.0.1\r\nx-forwarded-proto: http\r\nx-forwarded-host: h\r\nx-request-id: rid\r\n\r\n")
    }

    @Test func http10RequestsGoToBackendsAsHTTP11() throws {
        let forwarded = try Self.forward("GET / HTTP/1.0\r\n\r\n", clientIP: nil)
        #expect(forwarded == "GET / HTTP/1.1\r\nx-forwarded-proto: http\r\nx-request-id: rid\r\n\r\n")
    }

    @Test func repeatedEqualContentLengthsAreForwardedAsOne() throws {
        let forwarded = try Self.forward("PUT / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3, 3\r\n\r\n", clientIP: nil)
        #expect(forwarded == "PUT / HTTP/1.1\r\ncontent-length: 3\r\nx-forwarded-proto: http\r\nx-request-id: rid\r\n\r\n")
    }

    @Test func aBodylessPostGetsAnExplicitZeroLength() throws {
        #expect(try Self.forward("POST / HTTP/1.1\r\nHost: h\r\n\r\n").contains("\r\ncontent-length: 0\r\n"))
        #expect(try !Self.forward("GET / HTTP/1.1\r\nHost: h\r\n\r\n").contains("content-length"))
    }

    @Test func aSaneClientRequestIDIsKept() throws {
        let given = try Self.requestHead("GET / HTTP/1.1\r\nX-Request-ID: abc-123\r\n\r\n")
        #expect(ProxyHeaders.requestID(from: given, generate: { "new" }) == "abc-123")
        let odd = try Self.requestHead("GET / HTTP/1.1\r\nX-Request-ID: has space\r\n\r\n")
        #expect(ProxyHeaders.requestID(from: odd, generate: { "new" }) == "new")
        let long = try Self.requestHead("GET / HTTP/1.1\r\nX-Request-ID: \(String(repeating: "a", count: 129))\r\n\r\n")
        #expect(ProxyHeaders.requestID(from: long, generate: { "new" }) == "new")
    }

    @Test func responsesLoseHopByHopFieldsAndGetCookieAndClose() throws {
        let head = try Self.responseHead("HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=4\r\nContent-Length: 2\r\nServer: n\r\n\r\n")
        var out = ByteBuffer()
        ProxyHeaders.writeForwardResponse(head, clientVersion: .http1_1, keepAlive: false, chunked: false, setCookie: "S=a; Path=/", into: &out)
        #expect(String(buffer: out) == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: n\r\nconnection: close\r\nset-cookie: S=a; Path=/\r\n\r\n")
    }

    @Test func responsesToHTTP10ClientsSayKeepAliveAndChunkedOnesAreMarked() throws {
        let head = try Self.responseHead("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n")
        var out = ByteBuffer()
        ProxyHeaders.writeForwardResponse(head, clientVersion: .http1_0, keepAlive: true, chunked: false, setCookie: nil, into: &out)
        #expect(String(buffer: out) == "HTTP/1.0 404 Not Found\r\nconnection: keep-alive\r\n\r\n")
        out.clear()
        ProxyHeaders.writeForwardResponse(head, clientVersion: .http1_1, keepAlive: true, chunked: true, setCookie: nil, into: &out)
        #expect(String(buffer: out) == "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n")
    }

    @Test func cookiesAreFoundAmongOthers() throws {
        let head = try Self.requestHead("GET / HTTP/1.1\r\nCookie: a=1; STEADFAST_SERVER=web2; b=3\r\n\r\n")
        #expect(ProxyHeaders.cookie(named: "STEADFAST_SERVER", in: head) == "web2")
        #expect(ProxyHeaders.cookie(named: "STEADFAST", in: head) == nil)
    }

    @Test func errorAnswersAreCompletePlainTextResponses() {
        let out = ProxyHeaders.errorResponse(.serviceUnavailable, version: .http1_1, close: true, allocator: ByteBufferAllocator())
        #expect(
            String(buffer: out)
                == "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: 24\r\nconnection: close\r\n\r\n503 Service Unavailable\n"
        )
    }
}
