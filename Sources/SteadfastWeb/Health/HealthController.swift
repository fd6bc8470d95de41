import Foundation
import Hummingbird
import Prometheus

/// `/healthz` (alive), `/readyz` (should receive traffic) and `/metrics` (Prometheus).
struct HealthController: Sendable {
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    let nodeID: String

    func addRoutes(to router: Router<PortalRequestContext>) {
        router.get("healthz") { _, _ in
            Self.json(.ok, ["status": "alive", "node": nodeID])
        }
        router.get("readyz") { _, _ in
            let report = await readiness.report()
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let data = (try? encoder.encode(report)) ?? Data()
            return Response(
                status: report.ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(bytes: data))
            )
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }

    static func json(_ status: HTTPResponse.Status, _ object: [String: String]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
