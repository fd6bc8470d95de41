import Foundation

/// A steady load against real nodes for failover tests: writers register new clients (each
/// e-mail a unique key, retried with the same key until acknowledged), readers ask `/api/v1/me`
/// with a logged-in session. Every acknowledged write and every read outcome is recorded.
public final class AccountLoad: Sendable {
    /// What the load saw.
    public struct Report: Sendable {
        /// E-mails whose registration was acknowledged (201).
        public var acknowledged: [String]
        /// When each acknowledgement arrived.
        public var acknowledgedAt: [ContinuousClock.Instant]
        /// When the attempt that was acknowledged was sent.
        public var acknowledgedSentAt: [ContinuousClock.Instant]
        /// Write attempts answered with something other than 201/409 (503 during a failover).
        public var failedWriteAttempts: Int
        /// Registrations answered 409 on a retry: an earlier, unacknowledged attempt committed.
        public var conflictsOnRetry: Int
        /// The e-mails of those: each must be stored (the 409 says it is), or the write was lost
        /// while the client was told it had been made.
        public var confirmedByConflict: [String]
        /// E-mails answered 409 on their very first attempt. Each e-mail is new, so only the
        /// node itself can have stored it before: it ran the write a second time (a retry of work
        /// that may have committed) and the unique key stopped the copy.
        public var conflictsOnFirstAttempt: [String]
        /// E-mails given up on with their outcome unknown (only when the load stops mid-failover):
        /// each may or may not be stored.
        public var abandoned: [String]
        public var reads: Int
        /// Reads that did not answer 200, with their statuses or errors.
        public var failedReads: [String]
    }

    private let state = LockedBox(Report(
        acknowledged: [], acknowledgedAt: [], acknowledgedSentAt: [], failedWriteAttempts: 0, conflictsOnRetry: 0, confirmedByConflict: [],
        conflictsOnFirstAttempt: [], abandoned: [], reads: 0, failedReads: []
    ))
    private let running = LockedBox(true)
    private let tasks = LockedBox<[Task<Void, Never>]>([])

    public init() {}

    /// Starts `writers` writer tasks and `readers` reader tasks spread over `nodes`.
    public func start(nodes: [String], writers: Int, readers: [HTTPTestClient], prefix: String = UUID().uuidString.prefix(6).lowercased()) {
        var started: [Task<Void, Never>] = []
        for writer in 0..<writers {
            let base = nodes[writer % nodes.count]
            started.append(Task { await self.writeLoop(client: HTTPTestClient(baseURL: base), name: "\(prefix)-w\(writer)") })
        }
        for reader in readers {
            started.append(Task { await self.readLoop(client: reader) })
        }
        tasks.with { $0 += started }
    }

    /// Stops the load and waits for in-flight requests to finish.
    public func stop() async -> Report {
        running.with { $0 = false }
        for task in tasks.value { await task.value }
        return state.value
    }

    public var snapshot: Report { state.value }

    private var isRunning: Bool { running.value }

    private func writeLoop(client: HTTPTestClient, name: String) async {
        var sequence = 0
        while isRunning {
            sequence += 1
            let email = "\(name)-\(sequence)@example.com"
            var attempts = 0
            // Retry the same unique key until the outcome is known; never give up on a key
            // mid-failover (an unacknowledged attempt may still commit).
            while true {
                attempts += 1
                let sentAt = ContinuousClock.now
                let response = try? await client.postJSON(
                    "/api/v1/auth/register", ["email": email, "password": "correct horse battery", "name": "Load"], timeout: .seconds(10)
                )
                if response?.status == 201 {
                    state.with {
                        $0.acknowledged.append(email)
                        $0.acknowledgedAt.append(.now)
                        $0.acknowledgedSentAt.append(sentAt)
                    }
                    break
                }
                if response?.status == 409, attempts > 1 {
                    state.with {
                        $0.conflictsOnRetry += 1
                        $0.confirmedByConflict.append(email)
                    }
                    break
                }
                state.with {
                    $0.failedWriteAttempts += 1
                    if response?.status == 409 { $0.conflictsOnFirstAttempt.append(email) }
                }
                if !isRunning && attempts > 50 {
                    state.with { $0.abandoned.append(email) }
                    break
                }
                // Pacing, not waiting: a client's pause before retrying, in real time because
                // the nodes and their database are real processes.
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private func readLoop(client: HTTPTestClient) async {
        while isRunning {
            do {
                let response = try await client.get("/api/v1/me", timeout: .seconds(10))
                state.with {
                    $0.reads += 1
                    if response.status != 200 { $0.failedReads.append("\(response.status) \(response.body.prefix(200))") }
                }
            } catch {
                state.with {
                    $0.reads += 1
                    $0.failedReads.append("\(error)")
                }
            }
            // Pacing, not waiting: keeps the read rate moderate on a small machine.
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
