import Foundation

/// An option a client picks when ordering a product ("Memory", "Backups"), priced per choice.
/// An order that does not pick a choice gets the first one.
public struct ConfigurableOption: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var name: String
    public var choices: [OptionChoice]

    public init(id: UUID, name: String, choices: [OptionChoice]) {
        self.id = id
        self.name = name
        self.choices = choices
    }
}
