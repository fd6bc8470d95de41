import Foundation
import Hummingbird
import Prometheus

/// `/healthz` (alive), `/readyz` (should receive traffic) and `/metrics` (Prometheus).
struct HealthController: Sendable {
    let readiness: Readiness
    let registry: PrometheusCollectorRegistry
    let nodeID: String

    func addRoutes(to router: Router<PortalRequestContext>) {
        router.get("healthz") { request, context in
            try context.responseEncoder.encode(["status": "alive", "node": nodeID], from: request, context: context)
        }
        router.get("readyz") { request, context in
            let report = await readiness.report()
            return try context.responseEncoder.encode(report, status: report.ready ? .ok : .serviceUnavailable, from: request, context: context)
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
    }
}
