import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SteadfastDomain

/// Outermost middleware: gives the request an id (honouring a sane incoming `X-Request-ID`),
/// resolves the client address through trusted proxies, applies the body-size limit, and logs
/// one structured line per request with its outcome and duration.
public struct RequestLoggingMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    let forwarded: ForwardedHeaders
    let maxBodySize: Int
    /// Larger limits for paths that take file uploads (exact path → bytes).
    let uploadLimits: [String: Int]

    public init(forwarded: ForwardedHeaders, maxBodySize: Int, uploadLimits: [String: Int] = [:]) {
        self.forwarded = forwarded
        self.maxBodySize = maxBodySize
        self.uploadLimits = uploadLimits
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let start = ContinuousClock.now
        let requestID = Self.sanitizedRequestID(request.headers[.xRequestID]) ?? Self.newRequestID()
        context.requestID = requestID
        let peer = context.remoteAddress?.ipAddress
        let (clientIP, secure) = forwarded.resolve(
            peer: peer,
            forwardedFor: request.headers[.xForwardedFor],
            forwardedProto: request.headers[.xForwardedProto],
            directTLS: false
        )
        context.clientIP = clientIP
        context.isSecure = secure
        let limit = uploadLimits[request.uri.path] ?? maxBodySize
        context.maxUploadSize = limit
        context.requestPath = request.uri.path
        context.logger[metadataKey: "hb.request.id"] = .string(requestID)
        context.logger[metadataKey: "steadfast.request.id"] = .string(requestID)
        context.logger[metadataKey: "client.address"] = .string(clientIP)

        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw HTTPError(.contentTooLarge, message: "request body is larger than the \(limit)-byte limit")
        }

        let logger = context.logger
        do {
            var response = try await next(request, context)
            response.headers[.xRequestID] = requestID
            let status = response.status.code
            Self.log(logger, request: request, status: status, start: start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            Self.log(logger, request: request, status: status, start: start)
            throw error
        }
    }

    static func log(_ logger: Logger, request: Request, status: Int, start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = elapsed.totalSeconds * 1000
        logger.info(
            "request",
            metadata: [
                "http.request.method": .string(request.method.rawValue),
                "url.path": .string(request.uri.path),
                "http.response.status_code": .stringConvertible(status),
                "duration_ms": .string(String(format: "%.2f", milliseconds)),
            ]
        )
    }

    /// Accepts ids of 1-128 characters from `[A-Za-z0-9._:-]`; anything else is replaced.
    static func sanitizedRequestID(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
              value.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._:-".unicodeScalars.contains($0)) })
        else { return nil }
        return value
    }

    static func newRequestID() -> String {
        UUID().uuidString.lowercased()
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
    static let xForwardedFor = Self("X-Forwarded-For")!
    static let xForwardedProto = Self("X-Forwarded-Proto")!
}
