import Foundation

/// What a credit adjustment did.
public struct CreditOutcome: Codable, Sendable, Equatable {
    public let entryID: String
    public let amount: Int64
    public let currency: String
    public let balance: Int64

    enum CodingKeys: String, CodingKey {
        case amount, currency, balance
        case entryID = "entry_id"
    }
}
