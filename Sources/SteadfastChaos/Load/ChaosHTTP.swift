import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An answer with its body read.
public struct ChaosAnswer: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    public func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A browser-like session against the cluster: one cookie jar (name → value; everything is one
/// origin), redirects not followed (a redirect to the log-in page is an answer to judge), every
/// request bounded by a timeout.
public struct ChaosSession: Sendable {
    public let http: HTTPClient
    public let baseURL: String
    public private(set) var cookies: [String: String] = [:]
    public var timeout: TimeAmount = .seconds(10)

    public init(http: HTTPClient, baseURL: String) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    public var cookieHeader: String? {
        cookies.isEmpty ? nil : cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
    }

    public mutating func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> ChaosAnswer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let cookie = cookieHeader { request.headers.add(name: "Cookie", value: cookie) }
        if let body {
            request.headers.replaceOrAdd(name: "Content-Length", value: String(body.count))
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let deadline = NIODeadline.now() + timeout
        let response = try await http.execute(request, deadline: deadline)
        var buffer = try await response.body.collect(upTo: 16 << 20)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        for line in response.headers["Set-Cookie"] {
            let pair = line.split(separator: ";", maxSplits: 1)[0]
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<equals].trimmingCharacters(in: .whitespaces)
            let value = String(pair[pair.index(after: equals)...])
            let expired = line.lowercased().contains("max-age=0") || value.isEmpty
            if expired { cookies[name] = nil } else { cookies[name] = value }
        }
        return ChaosAnswer(status: Int(response.status.code), headers: response.headers, body: bytes)
    }

    public mutating func json(_ method: HTTPMethod, _ path: String, _ object: [String: Any], headers: [(String, String)] = []) async throws -> ChaosAnswer {
        let data = try JSONSerialization.data(withJSONObject: object)
        return try await send(method, path, headers: headers + [("Content-Type", "application/json")], body: Array(data))
    }
}

extension FailureKind {
    /// What kind of failure an error of the HTTP client is (no answer arrived).
    public static func classify(_ error: any Error) -> FailureKind {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: return .timeout
            case .remoteConnectionClosed, .cancelled: return .reset
            default: break
            }
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return .connectRefused
            case ECONNRESET, EPIPE: return .reset
            case ETIMEDOUT: return .timeout
            default: break
            }
        }
        let text = String(describing: error).lowercased()
        if text.contains("refused") { return .connectRefused }
        if text.contains("reset") || text.contains("closed") || text.contains("eof") { return .reset }
        if text.contains("timeout") || text.contains("timed out") || text.contains("deadline") { return .timeout }
        return .other
    }

    /// How an answer fails the request that expected one of `expected`, or nil when it is fine.
    /// `authenticated`: the request was made with a session that should be logged in.
    public static func judge(status: Int, location: String?, expected: Set<Int>, authenticated: Bool) -> FailureKind? {
        if expected.contains(status) { return nil }
        if authenticated {
            if status == 401 { return .sessionLost }
            if (300..<400).contains(status), let location, location.hasPrefix("/login") || location.contains("/login?") { return .sessionLost }
        }
        if status >= 500 { return .serverError }
        if status >= 400 { return .unexpected4xx }
        return .other
    }
}
