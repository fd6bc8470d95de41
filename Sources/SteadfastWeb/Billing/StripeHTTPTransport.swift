import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SteadfastServices

/// ``StripeTransport`` over AsyncHTTPClient: one request, a bounded wait, a bounded answer.
struct StripeHTTPTransport: StripeTransport {
    let client: HTTPClient
    var timeout: TimeAmount = .seconds(30)
    /// Stripe's answers are small; a larger one is an error, not something to buffer.
    var maxAnswer = 1 << 20

    func send(method: String, url: String, headers: [(String, String)], body: [UInt8]?) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: timeout)
        let collected = try await response.body.collect(upTo: maxAnswer)
        return (Int(response.status.code), Array(collected.readableBytesView))
    }
}
