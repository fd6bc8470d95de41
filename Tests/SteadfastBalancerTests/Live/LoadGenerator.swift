import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SteadfastTestSupport
import Synchronization

/// Steady client load for live tests: `concurrency` workers send requests back to back through
/// the balancer until stopped (each pausing `pause` between requests, to keep the rate
/// moderate on a shared 2-core machine), bounded by `maxRequests` and `maxDuration`, recording every outcome.
final class LoadGenerator: Sendable {
    /// What happened to one request.
    enum Outcome: Sendable, Equatable {
        case response(status: Int, backend: String?, id: String)
        case transportError(String, id: String)

        var succeeded: Bool {
            if case .response(let status, _, _) = self { return status == 200 }
            return false
        }
    }

    private let outcomes = Mutex<[Outcome]>([])
    private let stopped = Atomic<Bool>(false)
    private let counter = Atomic<Int>(0)
    private let taskBox = Mutex<Task<Void, Never>?>(nil)

    private init() {}

    /// Starts the workers. `makeRequest(n)` builds the n-th request and an id for it.
    static func start(
        client: HTTPClient,
        concurrency: Int = 8,
        maxRequests: Int = 50_000,
        maxDuration: Duration = .seconds(90),
        pause: Duration = .milliseconds(10),
        makeRequest: @escaping @Sendable (Int) -> (HTTPClientRequest, String)
    ) -> LoadGenerator {
        let load = LoadGenerator()
        let deadline = ContinuousClock.now + maxDuration
        let task = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while !load.stopped.load(ordering: .relaxed), ContinuousClock.now < deadline {
                            let n = load.counter.add(1, ordering: .relaxed).newValue
                            guard n <= maxRequests else { return }
                            let (request, id) = makeRequest(n)
                            let outcome: Outcome
                            do {
                                let response = try await client.execute(request, timeout: .seconds(20))
                                _ = try await response.body.collect(upTo: 1 << 20)
                                outcome = .response(status: Int(response.status.code), backend: response.headers.first(name: "x-backend"), id: id)
                            } catch {
                                outcome = .transportError("\(error)", id: id)
                            }
                            load.outcomes.withLock { $0.append(outcome) }
                            // Pacing, not waiting: the pause keeps the rate moderate.
                            try? await Task.sleep(for: pause)
                        }
                    }
                }
            }
        }
        load.taskBox.withLock { $0 = task }
        return load
    }

    var completed: Int { outcomes.withLock { $0.count } }
    var results: [Outcome] { outcomes.withLock { $0 } }

    /// Completed requests answered by `backend`.
    func count(from backend: String) -> Int {
        outcomes.withLock { $0.filter { if case .response(_, backend, _) = $0 { return true } else { return false } }.count }
    }

    /// Waits until `count` more requests completed (bounded by `timeout`).
    func waitForMore(_ count: Int, timeout: Duration = .seconds(30)) async throws {
        let target = completed + count
        try await waitUntil("\(target) requests completed (the load stalled at \(completed))", timeout: timeout, interval: .milliseconds(20)) {
            completed >= target
        }
    }

    /// Stops the workers and waits for in-flight requests to finish.
    func stop() async -> [Outcome] {
        stopped.store(true, ordering: .relaxed)
        let task = taskBox.withLock { $0 }
        await task?.value
        return results
    }
}
