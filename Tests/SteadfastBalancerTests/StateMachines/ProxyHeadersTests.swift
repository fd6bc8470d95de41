import NIOHTTP1
import Testing

@testable import SteadfastBalancer

@Suite("ProxyHeaders")
struct ProxyHeadersTests {
    @Test func hopByHopFieldsAreRemovedAndForwardedFieldsAdded() {
        let head = HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: "/x",
            headers: [
                "Host": "portal.example", "Connection": "keep-alive, X-Secret", "X-Secret": "1", "Keep-Alive": "timeout=5",
                "Upgrade": "websocket", "TE": "trailers", "X-Forwarded-For": "10.0.0.1", "Transfer-Encoding": "chunked",
            ]
        )
        let forwarded = ProxyHeaders.forwardRequest(head, clientIP: "127.0.0.1", scheme: "https", requestID: "rid")
        let headers = forwarded.headers
        for name in ["connection", "x-secret", "keep-alive", "upgrade", "te"] {
            #expect(!headers.contains(name: name), "\(name)")
        }
        #expect(headers["transfer-encoding"] == ["chunked"], "our own hop is chunked again")
        #expect(headers["x-forwarded-for"] == ["10.0.0.1, 127.0.0.1"])
        #expect(headers["x-forwarded-proto"] == ["https"])
        #expect(headers["x-forwarded-host"] == ["portal.example"])
        #expect(headers["x-request-id"] == ["rid"])
        #expect(forwarded.version == .http1_1)
    }

    @Test func aBodylessPostGetsAnExplicitZeroLength() {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: ["Host": "h"])
        #expect(ProxyHeaders.forwardRequest(head, clientIP: nil, scheme: "http", requestID: "r").headers["content-length"] == ["0"])
        let get = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": "h"])
        #expect(!ProxyHeaders.forwardRequest(get, clientIP: nil, scheme: "http", requestID: "r").headers.contains(name: "content-length"))
    }

    @Test func aSaneClientRequestIDIsKept() {
        let given = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["X-Request-ID": "abc-123"])
        #expect(ProxyHeaders.requestID(from: given, generate: { "new" }) == "abc-123")
        let odd = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["X-Request-ID": "has space"])
        #expect(ProxyHeaders.requestID(from: odd, generate: { "new" }) == "new")
    }

    @Test func responsesLoseHopByHopFieldsAndGetCookieAndClose() {
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: ["Connection": "keep-alive", "Keep-Alive": "timeout=4", "Content-Length": "2"])
        let out = ProxyHeaders.forwardResponse(head, clientVersion: .http1_1, keepAlive: false, setCookie: "S=a; Path=/")
        #expect(out.headers["connection"] == ["close"])
        #expect(!out.headers.contains(name: "keep-alive"))
        #expect(out.headers["set-cookie"] == ["S=a; Path=/"])
        #expect(out.headers["content-length"] == ["2"])
    }

    @Test func cookiesAreFoundAmongOthers() {
        let headers: HTTPHeaders = ["Cookie": "a=1; STEADFAST_SERVER=web2; b=3"]
        #expect(ProxyHeaders.cookie(named: "STEADFAST_SERVER", in: headers) == "web2")
        #expect(ProxyHeaders.cookie(named: "STEADFAST", in: headers) == nil)
    }
}
