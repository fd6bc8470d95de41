import HTTPTypes
import Hummingbird
import Metrics
import SteadfastDomain
import Synchronization

/// Counts requests and times them per route, method and status, under the names Hummingbird's
/// `MetricsMiddleware` uses (`hb.requests`, `http.server.request.duration`, `hb.request.errors`,
/// `http.server.active_requests`), so `/metrics` has the same series. Recorded when the handler
/// returns or throws: the duration is the handler's, as in the request log line, and no longer
/// includes writing the body (which matters only for a streamed file download).
///
/// Why not Hummingbird's `MetricsMiddleware`: it records after the body has been written by
/// wrapping every response body in a closure, and Hummingbird writes a closure body as three
/// flushed writes (head, body, end) instead of one. A node killed between two of them leaves
/// the balancer with a response head it has already passed on to the client; such a request can
/// no longer be retried on another node, and the client sees its connection cut mid-response
/// (seen in the cluster test's node kill under load). Recording on return leaves a body that is
/// one buffer as it is, and Hummingbird then writes the whole response in one write.
/// `ResponseWritesTests` checks that for a sample of the node's own routes.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = PortalRequestContext

    private let cache = RequestMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let active = cache.active(request.method)
        active.increment()
        defer { active.decrement() }
        do {
            let response = try await next(request, context)
            cache.endpoint(context.endpointPath ?? "Unknown", request.method, response.status)
                .recordSuccess(start.duration(to: .now))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            cache.endpoint(context.endpointPath ?? "NotFound", request.method, status)
                .recordError()
            throw error
        }
    }
}

/// The metric objects per method and per endpoint, made once: making one asks the metrics
/// factory (a locked lookup in the Prometheus registry) each time.
private final class RequestMetricsCache: Sendable {
    struct EndpointKey: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: HTTPResponse.Status
    }

    struct Endpoint: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let errors: Counter

        init(_ key: EndpointKey) {
            let endpoint = [("http.route", key.route), ("http.request.method", key.method.rawValue)]
            let status = String(key.status.code)
            let answered = endpoint + [("http.response.status_code", status)]
            requests = Counter(label: "hb.requests", dimensions: answered)
            duration = Metrics.Timer(label: "http.server.request.duration", dimensions: answered, preferredDisplayUnit: .seconds)
            errors = Counter(label: "hb.request.errors", dimensions: endpoint + [("error.type", status)])
        }

        func recordSuccess(_ elapsed: Duration) {
            requests.increment()
            duration.recordSeconds(elapsed.totalSeconds)
        }

        /// A thrown error is counted as a request and as an error; it is not timed (as in
        /// Hummingbird's middleware).
        func recordError() {
            requests.increment()
            errors.increment()
        }
    }

    private let actives = Mutex<[HTTPRequest.Method: Meter]>([:])
    private let endpoints = Mutex<[EndpointKey: Endpoint]>([:])

    func active(_ method: HTTPRequest.Method) -> Meter {
        actives.withLock { meters in
            if let meter = meters[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            meters[method] = meter
            return meter
        }
    }

    func endpoint(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Endpoint {
        let key = EndpointKey(route: route, method: method, status: status)
        return endpoints.withLock { cached in
            if let endpoint = cached[key] { return endpoint }
            let endpoint = Endpoint(key)
            cached[key] = endpoint
            return endpoint
        }
    }
}
