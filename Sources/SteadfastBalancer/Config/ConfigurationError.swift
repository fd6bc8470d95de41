/// An invalid balancer configuration: names the offending key (as a dotted path such as
/// `servers[2].weight`) and says what is wrong with it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The dotted path of the key that is wrong, e.g. `health.interval` or `servers[0].address`.
    public let key: String
    /// What is wrong with the key's value.
    public let problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    public var description: String {
        key.isEmpty ? "configuration: \(problem)" : "configuration key '\(key)': \(problem)"
    }
}
