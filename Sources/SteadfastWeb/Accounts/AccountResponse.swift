import Foundation
import Hummingbird
import SteadfastDomain

/// An account as the JSON API shows it (never the password hash).
struct AccountResponse: ResponseEncodable, Equatable {
    let id: String
    let email: String
    let name: String
    let role: String
    /// The client this account acts for (its own id, or the owner's for a client's user).
    let clientId: String?
    /// What it may do for that client (every permission for the owner).
    let clientPermissions: [String]?
    /// Whether this is a client's user rather than the client account itself.
    let clientUser: Bool?

    enum CodingKeys: String, CodingKey {
        case id, email, name, role
        case clientId = "client_id"
        case clientPermissions = "client_permissions"
        case clientUser = "client_user"
    }

    init(_ account: Account) {
        self.id = account.id.uuidString.lowercased()
        self.email = account.email.value
        self.name = account.name
        self.role = account.role.rawValue
        let client = account.role == .client
        self.clientId = client ? account.clientID.uuidString.lowercased() : nil
        self.clientPermissions = client ? account.clientPermissions.sorted().map(\.rawValue) : nil
        self.clientUser = client ? account.clientOwnerID != nil : nil
    }
}
