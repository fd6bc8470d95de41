import AsyncHTTPClient
import Foundation
import SteadfastDomain
import NIOCore
import NIOHTTP1

/// Small HTTP requests to the cluster's own servers (readiness, the balancer's admin API, S3
/// bucket creation), each bounded in time. A failure to connect is `nil`, not an error.
public enum HTTPProbe {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }
    }

    public static func send(
        _ method: HTTPMethod, _ url: String, headers: [String: String] = [:], body: String? = nil, timeout: Duration = .seconds(2)
    ) async -> Response? {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: TimeAmount(timeout))
            let collected = try await response.body.collect(upTo: 4 << 20)
            return Response(status: Int(response.status.code), body: String(buffer: collected))
        } catch {
            return nil
        }
    }

    public static func get(_ url: String, headers: [String: String] = [:], timeout: Duration = .seconds(2)) async -> Response? {
        await send(.GET, url, headers: headers, timeout: timeout)
    }
}
