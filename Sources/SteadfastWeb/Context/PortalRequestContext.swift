import Foundation
import Hummingbird
import HummingbirdAuth
import NIOCore
import SteadfastDomain
import SteadfastServices

/// Per-request state shared by middleware and routes.
public struct PortalRequestContext: RequestContext, SessionRequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Session data loaded by hummingbird-auth's `SessionMiddleware`.
    public let sessions: SessionContext<PortalSession>
    /// The TCP peer (a load balancer when behind one).
    public let remoteAddress: SocketAddress?

    /// The request id (incoming `X-Request-ID` or a new one), echoed in the response and logs.
    public var requestID: String = ""
    /// The client's IP address: the peer, or the forwarded client when the peer is a trusted proxy.
    public var clientIP: String = "unknown"
    /// Whether the client reached us over HTTPS (directly or via a trusted proxy).
    public var isSecure: Bool = false
    /// The logged-in account, set by ``AuthenticationMiddleware``.
    public var account: Account?
    /// A log-in waiting for its second factor (password checked; see ``PortalSession``).
    public var pendingSecondFactor: PortalSession?
    /// The API token ``account`` came from (`Authorization: Bearer`), set by
    /// ``APITokenMiddleware``; `nil` for the session.
    public var apiToken: APITokenService.Authenticated?
    /// Whether ``account`` came from an API token rather than the session.
    public var authenticatedByToken: Bool { apiToken != nil }
    /// The CSRF token for forms rendered in this request, set by ``CSRFMiddleware``.
    public var csrfToken: String?
    /// Body size limit, set from configuration by ``RequestLoggingMiddleware``; also the limit
    /// of ``requestDecoder``.
    public var maxUploadSize: Int = 1 << 20
    /// The API's JSON in (`request.decode(as:context:)`): snake_case keys, 400s naming the field.
    public var requestDecoder: PortalJSONDecoder { PortalJSONDecoder() }
    /// The API's JSON out (every `ResponseEncodable`): snake_case keys, sorted, ISO 8601 dates.
    public var responseEncoder: PortalJSONEncoder { PortalJSONEncoder() }
    /// The request's path, set by ``RequestLoggingMiddleware``: the layout marks the current page with it.
    public var requestPath: String = "/"
    /// A form post that failed validation, while its page is rendered again (``FormReplay``).
    var formReplay: FormReplay?
    /// The node's clock, set by ``AuthenticationMiddleware`` (before it, the real clock): what
    /// the request dates by itself, such as a visitor session's creation in ``flash(_:_:)``.
    var clock: any WallClock = SystemWallClock()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.sessions = .init()
        self.remoteAddress = source.channel.remoteAddress
    }
}
