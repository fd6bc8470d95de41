import Synchronization

/// Process-wide traffic counters of the data plane (per-server counters live in
/// ``BalancerStateMachine``). Lock-free atomics, so every event loop can bump them cheaply.
final class ProxyMetrics: Sendable {
    let requests = Atomic<UInt64>(0)
    let responses2xx = Atomic<UInt64>(0)
    let responses3xx = Atomic<UInt64>(0)
    let responses4xx = Atomic<UInt64>(0)
    let responses5xx = Atomic<UInt64>(0)
    /// Attempts sent again to another server.
    let retries = Atomic<UInt64>(0)
    /// Requests answered 502 after a second backend died of them (query of death), never tried on a third.
    let poisonedRequests = Atomic<UInt64>(0)
    /// Requests answered 503 because no server was usable.
    let noServerAvailable = Atomic<UInt64>(0)
    /// Requests rejected as malformed or over a limit (400/408/413/431).
    let rejectedRequests = Atomic<UInt64>(0)
    let clientConnectionsOpened = Atomic<UInt64>(0)
    let clientConnectionsOpen = Atomic<Int>(0)

    init() {}

    func countResponse(status: Int) {
        switch status {
        case 200..<300: responses2xx.add(1, ordering: .relaxed)
        case 300..<400: responses3xx.add(1, ordering: .relaxed)
        case 400..<500: responses4xx.add(1, ordering: .relaxed)
        default: responses5xx.add(1, ordering: .relaxed)
        }
    }
}
