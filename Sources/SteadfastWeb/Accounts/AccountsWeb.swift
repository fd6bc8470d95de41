import Foundation
import Hummingbird
import SteadfastConfig
import SteadfastDomain
import SteadfastServices

extension NodeConfiguration {
    /// What account self-service takes from the configuration.
    public var accountSettings: AccountSettings {
        AccountSettings(
            resetTokenTTL: accounts.resetTokenTTL, requireVerifiedEmail: accounts.requireVerifiedEmail,
            requireTwoFactorForStaff: accounts.require2FAForStaff, publicURL: publicURL ?? "",
            staffInviteTTL: accounts.staffInviteTTL
        )
    }
}

/// Sessions, password and 2FA answers of the `/api/v1/me` routes.
enum AccountJSON {
    struct Session: Encodable {
        let id: String
        let createdAt: Date
        let lastActiveAt: Date
        let expiresAt: Date
        let current: Bool
    }

    struct SessionList: Encodable {
        let sessions: [Session]
    }

    struct SecondFactorRequired: Encodable {
        let secondFactorRequired = true
    }

    struct Enrolment: Encodable {
        let secret: String
        let otpauthUri: String
    }

    struct RecoveryCodes: Encodable {
        let recoveryCodes: [String]
    }

    struct Profile: Encodable {
        let id: String
        let email: String
        let name: String
        let role: String
        let company: String
        let phone: String
        let address: String
        let emailVerified: Bool
        let twoFactorEnabled: Bool
        /// Set after an e-mail change: the address the confirmation link went to.
        let pendingEmail: String?

        init(_ account: Account, pendingEmail: String? = nil) {
            id = account.id.uuidString.lowercased()
            email = account.email.value
            name = account.name
            role = account.role.rawValue
            company = account.profile.company
            phone = account.profile.phone
            address = account.profile.address
            emailVerified = account.emailVerifiedAt != nil
            twoFactorEnabled = account.twoFactorEnabled
            self.pendingEmail = pendingEmail
        }
    }
}

extension PortalRequestContext {
    /// The pending half log-in, if it is still within the second-factor window (else 401).
    func requirePendingSecondFactor(window: Duration, now: Date) throws -> PortalSession {
        guard let pending = pendingSecondFactor, now <= pending.issuedAt + window else {
            throw HTTPError(.unauthorized, message: "log in with your password first")
        }
        return pending
    }
}
