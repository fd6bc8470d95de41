import Foundation

/// A heading in the store ("Shared hosting", "VPS", "Domains") grouping products.
public struct ProductGroup: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var name: String
    public var description: String
    /// Hidden groups are not shown in the store (their products can still be ordered by link).
    public var hidden: Bool
    public var sortOrder: Int
    public var createdAt: Date

    public init(id: UUID, name: String, description: String, hidden: Bool, sortOrder: Int, createdAt: Date) {
        self.id = id
        self.name = name
        self.description = description
        self.hidden = hidden
        self.sortOrder = sortOrder
        self.createdAt = createdAt
    }
}
