import Foundation

/// What account self-service needs from the configuration (docs/accounts.md).
public struct AccountSettings: Sendable {
    /// How long a password-reset link is valid (`accounts.reset_token_ttl`).
    public var resetTokenTTL: Duration
    /// How long an e-mail verification link is valid.
    public var verificationTokenTTL: Duration
    /// Whether ordering needs a confirmed e-mail address (`accounts.require_verified_email`).
    public var requireVerifiedEmail: Bool
    /// Whether staff must enrol in two-factor log-in (`accounts.require_2fa_for_staff`).
    public var requireTwoFactorForStaff: Bool
    /// The portal's base URL for links in mail (`http.public_url`); empty: relative links.
    public var publicURL: String
    /// The name authenticator apps show for the account.
    public var issuer: String
    /// How long the set-password link mailed to invited staff is valid (`accounts.staff_invite_ttl`).
    public var staffInviteTTL: Duration
    /// How long the half-done log-in (password checked, code not yet) may wait for the code.
    public var secondFactorWindow: Duration

    public init(
        resetTokenTTL: Duration = .seconds(3600), verificationTokenTTL: Duration = .seconds(7 * 86_400), requireVerifiedEmail: Bool = false,
        requireTwoFactorForStaff: Bool = false, publicURL: String = "", issuer: String = "Steadfast", secondFactorWindow: Duration = .seconds(300),
        staffInviteTTL: Duration = .seconds(72 * 3600)
    ) {
        self.staffInviteTTL = staffInviteTTL
        self.resetTokenTTL = resetTokenTTL
        self.verificationTokenTTL = verificationTokenTTL
        self.requireVerifiedEmail = requireVerifiedEmail
        self.requireTwoFactorForStaff = requireTwoFactorForStaff
        self.publicURL = publicURL
        self.issuer = issuer
        self.secondFactorWindow = secondFactorWindow
    }

    /// "1 hour", "30 minutes": a duration as mail tells it.
    static func spoken(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        if seconds % 86_400 == 0 { return plural(seconds / 86_400, "day") }
        if seconds % 3600 == 0 { return plural(seconds / 3600, "hour") }
        return plural(max(1, seconds / 60), "minute")
    }

    private static func plural(_ count: Int64, _ unit: String) -> String { count == 1 ? "1 \(unit)" : "\(count) \(unit)s" }
}
