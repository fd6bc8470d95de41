import Synchronization

/// An event that happens once; waiters resume and observers run when it fires (waiters also
/// when their task is cancelled).
public final class OneShotEvent: Sendable {
    private struct State {
        var fired = false
        var lastID = 0
        /// Observers' actions, and each waiter's resumption, by id.
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether ``fire()`` was called.
    public var hasFired: Bool { state.withLock { $0.fired } }

    public func fire() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            state.fired = true
            defer { state.actions = [:] }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    /// Calls `action` once when the event fires (at once if it already has); returns an id for
    /// ``removeObserver(_:)``, or nil if it already ran.
    @discardableResult
    public func observe(_ action: @escaping @Sendable () -> Void) -> Int? {
        let id = state.withLock { state -> Int? in
            if state.fired { return nil }
            state.lastID += 1
            state.actions[state.lastID] = action
            return state.lastID
        }
        if id == nil { action() }
        return id
    }

    public func removeObserver(_ id: Int) {
        state.withLock { _ = $0.actions.removeValue(forKey: id) }
    }

    public func wait() async {
        let id = state.withLock { state -> Int in
            state.lastID += 1
            return state.lastID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.fired || Task.isCancelled { return true }
                    state.actions[id] = { continuation.resume() }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let resume = state.withLock { $0.actions.removeValue(forKey: id) }
            resume?()
        }
    }
}
