import SteadfastDomain
import Synchronization

/// What loading the request's session found, carried past hummingbird-auth's `SessionMiddleware`
/// (which hands on only the decoded session value): a failure to load it, and the session's
/// account, read in the same query as the session.
///
/// - A failure: `SessionMiddleware` treats any load error as "no session", so left alone a
///   database hiccup would make a logged-in client look logged out (401, a log-in page).
///   Instead ``DatabasePersistDriver`` records the failure here and the authentication
///   middleware rethrows it, so the client gets a 503 and stays logged in.
/// - The owner: every page needs the session and its account; reading both in one query
///   (``SessionRecordRepository/find(idHash:now:)``) saves a round trip per request. The
///   authentication middleware uses it when it is the account the session names, and reads the
///   account itself otherwise.
///
/// A middleware outside `SessionMiddleware` installs a fresh record per request (``withRecord(_:)``).
public final class SessionLoad: Sendable {
    @TaskLocal public static var current: SessionLoad?

    private struct State {
        var failure: (any Error)?
        var owner: Account?
    }

    private let state = Mutex(State())

    public init() {}

    /// The failure recorded for this request, if loading the session failed.
    public var failure: (any Error)? { state.withLock { $0.failure } }

    /// The session's account (with its staff permissions), as read with the session; `nil` when
    /// no session was read or it belongs to no account that exists.
    public var owner: Account? { state.withLock { $0.owner } }

    func record(failure: any Error) {
        state.withLock { $0.failure = failure }
    }

    func record(owner: Account?) {
        state.withLock { $0.owner = owner }
    }

    /// Runs `body` with a fresh record installed for the current task.
    public static func withRecord<T>(_ body: () async throws -> T) async rethrows -> T {
        try await $current.withValue(SessionLoad()) { try await body() }
    }
}
