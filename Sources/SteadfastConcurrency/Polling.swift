/// Checks `condition` every `interval` until it holds or `limit` has passed on `clock`, and
/// returns whether it held. The one polling loop of the code base: for waits on something that
/// gives no event to wait on (another process, a server coming up, a row another node writes).
/// Anything that can signal should be awaited instead (see `OneShotEvent`).
///
/// - The condition is checked at once, then after each `interval`. The last wait is cut short
///   to end at the limit, where the condition is checked one last time: `false` means it did not
///   hold at the limit.
/// - Cancellation ends it: the call returns `false` without checking again (a cancelled task
///   does not sleep, and a sleep the cancellation interrupts ends the wait).
/// - An error from the condition ends it at once and is thrown unchanged (typed: a condition
///   that cannot throw makes a call that cannot either).
///
/// Time is `clock`'s: `ContinuousClock` in production (or a `WallClock`'s `steady` face where one
/// is injected), a test clock in tests, so a test of a wait of minutes takes no real time.
public func poll<Failure: Error>(
    every interval: Duration,
    within limit: Duration,
    clock: any Clock<Duration> = ContinuousClock(),
    until condition: () async throws(Failure) -> Bool
) async throws(Failure) -> Bool {
    let deadline = Deadline(after: limit, on: clock)
    while true {
        if try await condition() { return true }
        let left = deadline.remaining
        guard left > .zero, !Task.isCancelled else { return false }
        do {
            try await clock.sleep(for: min(interval, left))
        } catch {
            return false  // cancelled while asleep
        }
    }
}
