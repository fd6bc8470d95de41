import NIOCore
import Testing

@testable import SteadfastBalancer

/// `Connection` never changes a message's framing, and `Host` is unambiguous: a proxy that drops
/// a `Content-Length` because `Connection` names it, yet forwards the body bytes, makes the next
/// hop read the body as a second request (request smuggling).
@Suite("framing hardening")
struct FramingHardeningTests {
    @Test(arguments: [
        "POST /a HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\nContent-Length: 22\r\n\r\nGET /smuggled HTTP/1.1",
        "POST /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Content-Length\r\nContent-Length: 3\r\n\r\nabc",
        "POST /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\nConnection: CONTENT-LENGTH\r\nContent-Length: 3\r\n\r\nabc",
        "POST /a HTTP/1.1\r\nHost: x\r\nConnection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "GET /a HTTP/1.1\r\nHost: x\r\nConnection: x-a,host\r\n\r\n",
        // Named but absent: still refused, the sender's intent is unclear either way.
        "GET /a HTTP/1.1\r\nHost: x\r\nConnection: content-length\r\n\r\n",
    ])
    func aRequestWhoseConnectionNamesAFramingFieldIsRefused(_ text: String) {
        #expect(HTTP1Feed.requests(text) == [.error(.connectionNamesFramingField)])
        #expect(HTTP1ParseError.connectionNamesFramingField.responseStatus == .badRequest)
    }

    @Test func aResponseWhoseConnectionNamesAFramingFieldIsRefused() {
        #expect(
            HTTP1Feed.responses(["HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 5\r\n\r\nhello"])
                == [.error(.connectionNamesFramingField)]
        )
        #expect(
            HTTP1Feed.responses(["HTTP/1.1 200 OK\r\nConnection: keep-alive, transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"])
                == [.error(.connectionNamesFramingField)]
        )
    }

    @Test func otherFieldsNamedByConnectionAreStillDropped() throws {
        let forwarded = try ProxyHeadersTests.forward(
            "POST /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nContent-Length: 3\r\n\r\n",
            clientIP: nil
        )
        #expect(forwarded == "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nx-forwarded-proto: http\r\nx-forwarded-host: x\r\nx-request-id: rid\r\n\r\n")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost:\r\n\r\n", true),
        ("GET / HTTP/1.0\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nHost: x\r\n\r\n", true),
        ("GET / HTTP/1.1\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x\r\nhost: x\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: x, y\r\n\r\n", false),
    ])
    func hostMustBeThereOnceOnHTTP11AndNeverTwice(_ text: String, _ valid: Bool) throws {
        let head = try ProxyHeadersTests.requestHead(text)
        if valid {
            #expect(throws: Never.self) { try head.validateHost() }
        } else {
            #expect(throws: HTTP1ParseError.invalidHost) { try head.validateHost() }
        }
    }
}
