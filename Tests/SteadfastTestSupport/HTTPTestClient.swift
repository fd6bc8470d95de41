import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small HTTP client for live tests, with a cookie jar like a browser's (name → value; no
/// domain logic: every test talks to loopback). Each request is bounded by a timeout.
public final class HTTPTestClient: Sendable {
    /// A response with its body read.
    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        /// The body as text (lossy for binary content; see ``bytes``).
        public let body: String
        /// The body exactly as received.
        public let bytes: [UInt8]

        public func header(_ name: String) -> String? { headers.first(name: name) }
        public var setCookies: [String] { headers[canonicalForm: "Set-Cookie"].map(String.init) }

        /// Decodes the body as a JSON object.
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    public let baseURL: String
    private let jar: CookieJar

    /// One client for the whole test process that, like a test should, does not follow
    /// redirects (a 303 is an answer to check). Never shut down: it lives as long as the process.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5)))
    )

    public init(baseURL: String, cookies: CookieJar = CookieJar()) {
        self.baseURL = baseURL
        self.jar = cookies
    }

    public var cookies: CookieJar { jar }

    /// Same cookies, another node (to prove a session works anywhere).
    public func pointed(at baseURL: String) -> HTTPTestClient {
        HTTPTestClient(baseURL: baseURL, cookies: jar)
    }

    public func get(_ path: String, headers: [String: String] = [:], timeout: Duration = .seconds(30)) async throws -> Response {
        try await send("GET", path, headers: headers, timeout: timeout)
    }

    /// POST with a JSON body (`Content-Type: application/json`).
    public func postJSON(_ path: String, _ object: [String: Any], headers: [String: String] = [:], timeout: Duration = .seconds(30)) async throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object)
        var headers = headers
        headers["Content-Type"] = headers["Content-Type"] ?? "application/json"
        return try await send("POST", path, headers: headers, body: Array(data), timeout: timeout)
    }

    /// POST an HTML form.
    public func postForm(_ path: String, _ fields: [String: String], headers: [String: String] = [:]) async throws -> Response {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
        var headers = headers
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return try await send("POST", path, headers: headers, body: Array(body.utf8))
    }

    public func send(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8]? = nil, timeout: Duration = .seconds(30)) async throws -> Response {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        let cookieHeader = jar.header
        if !cookieHeader.isEmpty, headers["Cookie"] == nil { request.headers.add(name: "Cookie", value: cookieHeader) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await Self.client.execute(request, timeout: TimeAmount(timeout))
        let buffer = try await response.body.collect(upTo: 64 << 20)
        let result = Response(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer), bytes: Array(buffer.readableBytesView))
        jar.absorb(result.setCookies)
        return result
    }
}

/// Cookies kept between requests: Set-Cookie with Max-Age=0 or an expiry in the past deletes.
public final class CookieJar: Sendable {
    private let storage = LockedBox<[String: String]>([:])

    public init() {}

    public subscript(name: String) -> String? {
        get { storage.with { $0[name] } }
        set { storage.with { $0[name] = newValue } }
    }

    var header: String {
        storage.with { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
    }

    func absorb(_ setCookies: [String]) {
        for line in setCookies {
            let parts = line.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, let equals = first.firstIndex(of: "=") else { continue }
            let name = String(first[..<equals])
            let value = String(first[first.index(after: equals)...])
            let expired = parts.dropFirst().contains { attribute in
                let lower = attribute.lowercased()
                if lower == "max-age=0" { return true }
                if lower.hasPrefix("expires=") {
                    let formatter = DateFormatter()
                    formatter.locale = Locale(identifier: "en_US_POSIX")
                    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
                    if let date = formatter.date(from: String(attribute.dropFirst("expires=".count))) { return date <= Date() }
                }
                return false
            }
            self[name] = expired ? nil : value
        }
    }
}

