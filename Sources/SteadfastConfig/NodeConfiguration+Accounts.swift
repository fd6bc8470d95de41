import Foundation
import SteadfastDomain

extension ConfigKey {
    public static let accountsRequireVerifiedEmail = ConfigKey("accounts.require_verified_email", default: "false", "Whether a client must confirm their e-mail address (the link mailed at registration or after a change) before placing an order.")
    public static let accountsResetTokenTTL = ConfigKey("accounts.reset_token_ttl", default: "1h", "How long a password-reset link stays valid (single use; a newer link voids older ones).")
    public static let accountsRequire2FAForStaff = ConfigKey("accounts.require_2fa_for_staff", default: "false", "Whether staff without two-factor log-in must enrol (at /account/2fa) before reaching any staff page or staff API.")
    public static let accountsStaffInviteTTL = ConfigKey("accounts.staff_invite_ttl", default: "72h", "How long the set-password link mailed to newly invited staff stays valid (single use).")
    public static let rateLimitPasswordResetPerAccount = ConfigKey("security.rate_limit.password_reset_per_account", default: "5/1h", "Password-reset requests for one e-mail address (known or not) per window: N/DURATION, or off. Above it: 429 with Retry-After.")
    public static let rateLimitPasswordResetPerIP = ConfigKey("security.rate_limit.password_reset_per_ip", default: "20/1h", "Password-reset requests from one client IP per window: N/DURATION, or off.")
    public static let rateLimitSecondFactor = ConfigKey("security.rate_limit.second_factor", default: "10/15m", "Two-factor codes (TOTP or recovery) tried for one account per window: N/DURATION, or off.")

    /// The `accounts.*` keys and the account rate limits, in documentation order.
    public static let accountKeys: [ConfigKey] = [
        accountsRequireVerifiedEmail, accountsResetTokenTTL, accountsRequire2FAForStaff, accountsStaffInviteTTL,
        rateLimitPasswordResetPerAccount, rateLimitPasswordResetPerIP, rateLimitSecondFactor,
    ]
}

extension NodeConfiguration {
    /// The `accounts.*` settings and the account self-service rate limits (docs/accounts.md).
    public struct Accounts: Sendable {
        public var requireVerifiedEmail: Bool
        public var resetTokenTTL: Duration
        public var require2FAForStaff: Bool
        public var staffInviteTTL: Duration
        public var rateLimitPasswordResetPerAccount: RateLimit?
        public var rateLimitPasswordResetPerIP: RateLimit?
        public var rateLimitSecondFactor: RateLimit?
    }
}

extension NodeConfiguration.Accounts {
    init(_ reader: Reader) throws(ConfigError) {
        requireVerifiedEmail = try reader.bool(.accountsRequireVerifiedEmail)
        resetTokenTTL = try reader.duration(.accountsResetTokenTTL)
        guard resetTokenTTL >= .seconds(60), resetTokenTTL <= .seconds(7 * 86_400) else {
            throw reader.fail(.accountsResetTokenTTL, "must be from 1m to 7d")
        }
        require2FAForStaff = try reader.bool(.accountsRequire2FAForStaff)
        staffInviteTTL = try reader.duration(.accountsStaffInviteTTL)
        guard staffInviteTTL >= .seconds(60), staffInviteTTL <= .seconds(30 * 86_400) else {
            throw reader.fail(.accountsStaffInviteTTL, "must be from 1m to 30d")
        }
        rateLimitPasswordResetPerAccount = try reader.rateLimit(.rateLimitPasswordResetPerAccount)
        rateLimitPasswordResetPerIP = try reader.rateLimit(.rateLimitPasswordResetPerIP)
        rateLimitSecondFactor = try reader.rateLimit(.rateLimitSecondFactor)
    }
}
