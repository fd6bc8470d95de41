import Foundation
import Hummingbird
import Logging
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage

/// Turns every error into a clear answer: JSON (`{"error": {"code", "message", "field"}}`) under
/// `/api/`, a readable HTML page elsewhere. Internal details never reach the client; unexpected
/// errors are logged with the request id, which the answer quotes.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    let pages: PageRenderer
    /// Who is logged in, for an error page raised before the session was read (an unknown
    /// path never reaches the session middleware): the page then shows the account's
    /// navigation, not "Log in / Register".
    let account: @Sendable (Request) async -> Account?

    public init(pages: PageRenderer, account: @escaping @Sendable (Request) async -> Account? = { _ in nil }) {
        self.pages = pages
        self.account = account
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch is RedirectToLogin {
            return redirect(to: "/login")
        } catch {
            let problem = Problem(error)
            if problem.status == .internalServerError {
                context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            } else if problem.status == .serviceUnavailable {
                context.logger.warning("dependency unavailable", metadata: ["error": "\(error)"])
            }
            if Self.wantsJSON(request) {
                return problem.jsonResponse(requestID: context.requestID)
            }
            var context = context
            if context.account == nil { context.account = await account(request) }
            return pages.errorPage(problem, context: context)
        }
    }

    static func wantsJSON(_ request: Request) -> Bool {
        request.uri.path.hasPrefix("/api/") || request.uri.path == "/api"
    }
}

/// An error reduced to what a client may see: status, machine code, message, field.
public struct Problem: Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    init(_ error: any Error) {
        switch error {
        case let error as AccountError:
            let status: HTTPResponse.Status = switch error {
            case .duplicateEmail: .conflict
            case .invalidCredentials: .unauthorized
            case .twoFactorAlreadyEnabled, .twoFactorNotEnabled: .conflict
            case .emailNotVerified: .forbidden
            default: .badRequest
            }
            self.init(status: status, code: error.code, message: error.message, field: error.field)
        case let error as FileService.FileError:
            switch error.kind {
            case .invalidFilename: self.init(status: .badRequest, code: "invalid_filename", message: error.message, field: "filename")
            case .invalidContentType: self.init(status: .badRequest, code: "invalid_content_type", message: error.message, field: "content_type")
            case .tooLarge: self.init(status: .contentTooLarge, code: "body_too_large", message: error.message)
            case .quotaExceeded: self.init(status: .contentTooLarge, code: "quota_exceeded", message: error.message)
            case .notFound: self.init(status: .notFound, code: "not_found", message: error.message)
            }
        case let error as StorageError:
            switch error.kind {
            case .sizeMismatch: self.init(status: .badRequest, code: "size_mismatch", message: "the upload did not contain exactly Content-Length bytes")
            case .notFound: self.init(status: .notFound, code: "not_found", message: "no such file")
            case .invalidRange: self.init(status: .rangeNotSatisfiable, code: "invalid_range", message: error.message)
            case .invalidKey: self.init(status: .badRequest, code: "invalid_key", message: error.message)
            case .invalidLink: self.init(status: .forbidden, code: "invalid_link", message: error.message)
            default:
                self.init(status: .serviceUnavailable, code: "storage_unavailable", message: "file storage is unavailable; please try again shortly")
                headers[.retryAfter] = "5"
            }
        case let error as BillingError:
            let (status, code): (HTTPResponse.Status, String) = switch error.kind {
            case .invalid: (.badRequest, "invalid_request")
            case .notFound: (.notFound, "not_found")
            case .conflict: (.conflict, "conflict")
            case .illegalTransition: (.conflict, "illegal_transition")
            case .currencyMismatch: (.badRequest, "currency_mismatch")
            case .overflow: (.badRequest, "amount_too_large")
            case .idempotencyMismatch: (.unprocessableContent, "idempotency_key_reused")
            case .paymentDeclined: (HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), "payment_declined")
            case .unavailable: (.conflict, "unavailable")
            case .badSignature: (.unauthorized, "bad_signature")
            }
            self.init(status: status, code: code, message: error.message, field: error.field)
        case let error as GatewayError:
            // A payment provider's failure: a decline is the client's (402); anything else is the
            // provider's (502 refused, 503 unreachable: try again). Its text never holds a secret.
            switch error.kind {
            case .declined: self.init(status: HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required"), code: "payment_declined", message: error.message)
            case .badSignature, .malformed: self.init(status: .badRequest, code: "invalid_request", message: error.message)
            case .unsupported: self.init(status: .conflict, code: "unsupported", message: error.message)
            case .rejected: self.init(status: .badGateway, code: "gateway_error", message: "the payment provider refused the request: \(error.message)")
            case .unavailable:
                self.init(status: .serviceUnavailable, code: "gateway_unavailable", message: "the payment provider is unavailable; please try again shortly")
                headers[.retryAfter] = "5"
            }
        case let error as SupportError:
            let (status, code): (HTTPResponse.Status, String) = switch error.kind {
            case .invalid: (.badRequest, "invalid_request")
            case .forbidden: (.forbidden, "forbidden")
            case .notFound: (.notFound, "not_found")
            case .conflict: (.conflict, "conflict")
            case .tooLarge: (.contentTooLarge, "body_too_large")
            case .unsupportedType: (.unsupportedMediaType, "unsupported_media_type")
            case .storageUnavailable: (.serviceUnavailable, "storage_unavailable")
            }
            self.init(status: status, code: code, message: error.message, field: error.field)
            if error.kind == .storageUnavailable { headers[.retryAfter] = "5" }
        case let error as DatabaseError where [.timeout, .connectionFailure, .readOnly].contains(error.kind):
            self.init(status: .serviceUnavailable, code: "database_unavailable", message: "the database is unavailable; please try again shortly")
            headers[.retryAfter] = "1"
        case is PasswordHasher.Busy:
            self.init(status: .serviceUnavailable, code: "busy", message: "too many log-ins are being checked right now; please try again in a moment")
            headers[.retryAfter] = "1"
        case let error as StaffPolicy.Denied:
            let unauthenticated = error.decision == .unauthenticated
            self.init(status: unauthenticated ? .unauthorized : .forbidden, code: unauthenticated ? "unauthenticated" : "forbidden", message: error.message)
        case let error as ClientAccessPolicy.Denied:
            let unauthenticated = error.decision == .unauthenticated
            self.init(status: unauthenticated ? .unauthorized : .forbidden, code: unauthenticated ? "unauthenticated" : "forbidden", message: error.message)
        case let error as RateLimited:
            self.init(status: .tooManyRequests, code: "too_many_requests", message: error.message)
            headers[.retryAfter] = String(error.retryAfterSeconds)
        case let error as InvalidParameter:
            self.init(status: .badRequest, code: "invalid_parameter", message: error.message, field: error.name)
        case let error as HTTPError:
            self.init(status: error.status, code: Self.code(for: error.status), message: error.body ?? error.status.reasonPhrase)
            headers = error.headers
        case let error as any HTTPResponseError:
            self.init(status: error.status, code: Self.code(for: error.status), message: error.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, code: "internal_error", message: "something went wrong on our side; quote the request id if you contact support")
        }
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "bad_request"
        case 401: "unauthenticated"
        case 403: "forbidden"
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 409: "conflict"
        case 413: "body_too_large"
        case 415: "unsupported_media_type"
        case 429: "too_many_requests"
        case 503: "unavailable"
        default: "error_\(status.code)"
        }
    }

    func jsonResponse(requestID: String) -> Response {
        struct Body: Encodable {
            struct Detail: Encodable {
                let code: String
                let message: String
                let field: String?
            }
            let error: Detail
            let request_id: String
        }
        let body = Body(error: .init(code: code, message: message, field: field), request_id: requestID)
        let data = (try? PortalJSONEncoder.encoder.encode(body)) ?? Data()
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        response.headers[.contentType] = "application/json; charset=utf-8"
        response.headers[.contentLength] = String(data.count)
        return response
    }
}
