import Foundation
import SteadfastConcurrency
import SteadfastDomain

// The one way tests wait for something outside their control (a real server, a child process,
// a file another process writes): check it every `interval` until it holds or `timeout` passes,
// through the code base's one polling loop, `poll(every:within:clock:until:)` (SteadfastConcurrency),
// in real time. This file is the only place in Tests/ that waits that way; a test that needs
// time itself to pass either drives an injected clock or says in a comment why it must be real
// time.

/// A condition a test waited for did not hold in time.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Calls `attempt` every `interval` until it returns a value, and returns that value; `nil` once
/// `timeout` has passed (after one last attempt) or the task is cancelled.
public func poll<T>(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100), _ attempt: () async throws -> T?
) async rethrows -> T? {
    var found: T?
    _ = try await poll(every: interval, within: timeout) {
        found = try await attempt()
        return found != nil
    }
    return found
}

/// Retries `condition` every `interval` until it returns true or `timeout` passes; returns
/// whether it became true. For waiting on outcomes in live tests without timing assertions.
public func eventually(
    timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    try await poll(every: interval, within: timeout, until: condition)
}

/// Waits until `condition` holds; throws ``WaitTimedOut`` saying what was awaited if it does not
/// within `timeout`. `what` is evaluated only then, so it can describe the last state seen.
public func waitUntil(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100),
    _ condition: () async throws -> Bool
) async throws {
    guard try await eventually(timeout: timeout, interval: interval, condition) else {
        throw WaitTimedOut("timed out after \(DurationText.format(timeout)) waiting until \(what())")
    }
}

/// Waits until `value` returns something and returns it; throws ``WaitTimedOut`` as
/// ``waitUntil(_:timeout:interval:_:)`` does.
public func waitFor<T>(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(30), interval: Duration = .milliseconds(100),
    _ value: () async throws -> T?
) async throws -> T {
    guard let found = try await poll(timeout: timeout, interval: interval, value) else {
        throw WaitTimedOut("timed out after \(DurationText.format(timeout)) waiting for \(what())")
    }
    return found
}

/// ``eventually(timeout:interval:_:)`` for code that cannot suspend (a `deinit`, a synchronous
/// kill-and-reap): blocks the calling thread between checks, so keep `timeout` short.
public func eventuallyBlocking(timeout: Duration, interval: Duration = .milliseconds(5), _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !condition() {
        guard clock.now < deadline else { return false }
        let (seconds, attoseconds) = interval.components
        Thread.sleep(forTimeInterval: Double(seconds) + Double(attoseconds) / 1e18)
    }
    return true
}
