import Synchronization

/// Carries a failure to load the session from the database past hummingbird-auth's
/// `SessionMiddleware`, which treats any load error as "no session".
///
/// Left alone, a database hiccup would make a logged-in client look logged out (401, a log-in
/// page). Instead, a middleware outside `SessionMiddleware` installs a recorder for the request
/// (``withRecorder(_:)``), ``DatabasePersistDriver`` records the failure in it, and the
/// authentication middleware inside rethrows it, so the client gets a 503 and stays logged in.
public final class SessionLoadFailure: Sendable {
    @TaskLocal public static var current: SessionLoadFailure?

    private let recorded = Mutex<(any Error)?>(nil)

    public init() {}

    /// The failure recorded for this request, if loading the session failed.
    public var error: (any Error)? { recorded.withLock { $0 } }

    func record(_ error: any Error) {
        recorded.withLock { $0 = error }
    }

    /// Runs `body` with a fresh recorder installed for the current task.
    public static func withRecorder<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(SessionLoadFailure()) { try await body() }
    }
}
