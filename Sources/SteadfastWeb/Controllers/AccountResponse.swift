import Foundation
import Hummingbird
import SteadfastDomain

/// An account as the JSON API shows it (never the password hash).
struct AccountResponse: ResponseEncodable, Equatable {
    let id: String
    let email: String
    let name: String
    let role: String

    init(_ account: Account) {
        self.id = account.id.uuidString.lowercased()
        self.email = account.email.value
        self.name = account.name
        self.role = account.role.rawValue
    }
}
