import Prometheus

/// Renders the Prometheus text exposition for `GET /metrics`: a fresh registry filled from the
/// pool snapshot and the data-plane counters at scrape time (so counters never drift from the
/// values the admin JSON shows).
enum MetricsExporter {
    static func render(servers: [ServerStatus], metrics: ProxyMetrics) -> String {
        let registry = PrometheusCollectorRegistry()
        func counter(_ name: String, _ help: String, _ labels: [(String, String)] = [], _ value: UInt64) {
            let descriptor = MetricNameDescriptor(namespace: "lb", metricName: name, unitName: "total", helpText: help)
            registry.makeCounter(descriptor: descriptor, labels: labels).increment(by: Int64(value))
        }
        func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = [], _ value: Double) {
            let descriptor = MetricNameDescriptor(namespace: "lb", metricName: name, unitName: "", helpText: help)
            registry.makeGauge(descriptor: descriptor, labels: labels).set(to: value)
        }

        counter("requests", "Client requests received.", [], metrics.requests.load(ordering: .relaxed))
        let classes: [(String, UInt64)] = [
            ("2xx", metrics.responses2xx.load(ordering: .relaxed)),
            ("3xx", metrics.responses3xx.load(ordering: .relaxed)),
            ("4xx", metrics.responses4xx.load(ordering: .relaxed)),
            ("5xx", metrics.responses5xx.load(ordering: .relaxed)),
        ]
        for (label, value) in classes {
            counter("responses", "Responses sent to clients by status class.", [("class", label)], value)
        }
        counter("retries", "Attempts re-sent to another server.", [], metrics.retries.load(ordering: .relaxed))
        counter(
            "requests_poisoned", "Requests answered 502 after two backends died of them (query of death).", [],
            metrics.poisonedRequests.load(ordering: .relaxed)
        )
        counter("no_server", "Requests answered 503 because no server was usable.", [], metrics.noServerAvailable.load(ordering: .relaxed))
        counter("rejected_requests", "Malformed or over-limit requests (400/408/413/431).", [], metrics.rejectedRequests.load(ordering: .relaxed))
        counter("client_connections", "Client connections accepted.", [], metrics.clientConnectionsOpened.load(ordering: .relaxed))
        gauge("client_connections_open", "Client connections open.", [], Double(metrics.clientConnectionsOpen.load(ordering: .relaxed)))

        for server in servers {
            let labels = [("server", server.name)]
            gauge("server_usable", "1 when the server takes new requests.", labels, server.usable ? 1 : 0)
            gauge("server_effective_weight", "Weight in effect (slow start included).", labels, server.effectiveWeight)
            gauge("server_active_requests", "Requests in flight to the server.", labels, Double(server.activeRequests))
            counter("server_selected", "Attempts sent to the server.", labels, server.selected)
            counter("server_failures", "Attempts that got no response.", labels, server.failures)
            counter("server_ejections", "Passive ejections.", labels, server.ejections)
            let serverClasses: [(String, UInt64)] = [
                ("2xx", server.responses2xx), ("3xx", server.responses3xx),
                ("4xx", server.responses4xx), ("5xx", server.responses5xx),
            ]
            for (label, value) in serverClasses {
                counter("server_responses", "Responses from the server by status class.", labels + [("class", label)], value)
            }
        }
        return registry.emitToString()
    }
}
