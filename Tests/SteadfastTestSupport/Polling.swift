/// Retries `condition` every `interval` until it returns true or `timeout` passes; returns
/// whether it became true. For waiting on outcomes in live tests without timing assertions.
public func eventually(timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
