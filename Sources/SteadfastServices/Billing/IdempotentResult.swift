import Foundation

/// An idempotent operation's answer: the value, its stored JSON, and whether this call
/// replayed an earlier one.
public struct IdempotentResult<Value: Codable & Sendable>: Sendable {
    public let value: Value
    /// Byte-for-byte the JSON stored with the key (identical for the original and every replay).
    public let json: String
    public let replayed: Bool
}
