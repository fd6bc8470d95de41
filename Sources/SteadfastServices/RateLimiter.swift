import Crypto
import Foundation
import SteadfastDomain
import SteadfastPersistence

/// A request refused by a rate limit: 429 with `Retry-After`.
public struct RateLimited: Error, Sendable, Equatable, CustomStringConvertible {
    public let retryAfterSeconds: Int
    public let message: String
    public var description: String { message }
}

/// Counts events against the cluster-wide limits (`security.rate_limit.*`) in the shared
/// database, so every node sees the same counts. Keys (e-mail addresses, IPs, token ids) are
/// stored only as SHA-256 digests.
public struct RateLimiter: Sendable {
    /// What is limited, and by which key.
    public enum Kind: String, Sendable, CaseIterable {
        /// Log-in attempts for one account (the e-mail as typed, normalised), known or not.
        case loginPerAccount = "login-account"
        /// Log-in attempts from one client IP.
        case loginPerIP = "login-ip"
        /// Registrations from one client IP.
        case registerPerIP = "register-ip"
        /// Requests made with one API token.
        case apiToken = "api-token"
        /// Password-reset requests for one e-mail address (normalised), known or not.
        case passwordResetPerAccount = "reset-account"
        /// Password-reset requests from one client IP.
        case passwordResetPerIP = "reset-ip"
        /// Two-factor codes tried for one account.
        case secondFactor = "second-factor"

        var refusal: String {
            switch self {
            case .loginPerAccount: "too many log-in attempts for this account"
            case .loginPerIP: "too many log-in attempts from this address"
            case .registerPerIP: "too many registrations from this address"
            case .apiToken: "too many requests with this API token"
            case .passwordResetPerAccount: "too many password-reset requests for this address"
            case .passwordResetPerIP: "too many password-reset requests from this address"
            case .secondFactor: "too many two-factor codes tried for this account"
            }
        }
    }

    let database: any SQLDatabase
    let limits: [Kind: RateLimit]
    let clock: any WallClock

    /// `limits` without an entry for a kind leave that kind unlimited.
    public init(database: any SQLDatabase, limits: [Kind: RateLimit], clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.limits = limits
        self.clock = clock
    }

    /// Counts one event of `kind` for `key`; throws ``RateLimited`` once the window's limit is
    /// used up. Every attempt counts, allowed or refused, successful or not: a guesser gains
    /// nothing by waiting for answers, and the count does not reveal whether an account exists.
    public func hit(_ kind: Kind, key: String) async throws {
        guard let limit = limits[kind] else { return }
        let now = clock.now()
        let window = limit.window(containing: now)
        let digest = APITokenService.hex(SHA256.hash(data: Data(key.utf8)))
        let hits = try await RateLimitRepository(database).hit(bucket: "\(kind.rawValue):\(digest)", window: window.number, expiresAt: window.end)
        if case .limited(let seconds) = limit.decision(hits: hits, windowEnd: window.end, now: now) {
            throw RateLimited(retryAfterSeconds: seconds, message: "\(kind.refusal); try again in \(seconds) s")
        }
    }
}
