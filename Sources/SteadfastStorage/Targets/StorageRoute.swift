/// Where a file type's files go: a target name and a key prefix inside it.
public struct StorageRoute: Sendable, Hashable {
    /// The target's name.
    public var target: String
    /// The type's key prefix inside the target (ends with `/`, or is empty).
    public var prefix: String

    /// Creates a route.
    public init(target: String, prefix: String) {
        self.target = target
        self.prefix = prefix
    }
}
