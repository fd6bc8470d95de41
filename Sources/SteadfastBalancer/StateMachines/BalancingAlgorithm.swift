/// How ``BalancerStateMachine`` chooses among the usable servers.
public enum BalancingAlgorithm: String, Sendable, Equatable, CaseIterable {
    /// Smooth weighted round-robin (as nginx): a fixed rotation proportional to weights.
    case roundRobin = "round_robin"
    /// The server with the fewest in-flight requests relative to its weight.
    case leastConnections = "least_connections"
    /// Two servers drawn at random (by weight); the one with fewer in-flight requests per weight wins.
    case powerOfTwoChoices = "power_of_two_choices"
}
