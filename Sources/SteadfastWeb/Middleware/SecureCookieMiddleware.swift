import Hummingbird
import SteadfastConfig

/// Adds `Secure` to the cookies the node sets when the client is on HTTPS (`auto`), always, or
/// never, as configured. hummingbird-auth fixes cookie attributes at start-up; whether a request
/// is HTTPS is only known per request (directly, or from a trusted proxy's X-Forwarded-Proto).
public struct SecureCookieMiddleware: RouterMiddleware {
    public typealias Context = PortalRequestContext

    let mode: NodeConfiguration.SecureCookies

    public init(mode: NodeConfiguration.SecureCookies) {
        self.mode = mode
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        let secure = switch mode {
        case .always: true
        case .never: false
        case .auto: context.isSecure
        }
        guard secure else { return response }
        let cookies = response.headers[values: .setCookie]
        guard !cookies.isEmpty else { return response }
        response.headers[values: .setCookie] = cookies.map { cookie in
            cookie.lowercased().contains("; secure") ? cookie : cookie + "; Secure"
        }
        return response
    }
}
