import SteadfastPersistence

/// Runs `body` while `cluster` runs (its pools and role monitor) beside it in a task group;
/// the cluster is cancelled when `body` returns or throws.
func whileRunning<T: Sendable>(_ cluster: PostgresCluster, _ body: @Sendable (PostgresCluster) async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            try await cluster.run()
            return nil
        }
        defer { group.cancelAll() }
        return try await body(cluster)
    }
}
