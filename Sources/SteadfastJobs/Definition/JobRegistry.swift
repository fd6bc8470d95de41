/// The jobs a node's scheduler runs. Every node of a cluster should register the same jobs with
/// the same schedules (they come from the same binary and configuration).
///
/// ```swift
/// var jobs = JobRegistry()
/// jobs.add(SessionCleanupJob.definition(database: database, interval: .seconds(300)))
/// jobs.add(JobDefinition("billing-late-fees", schedule: try .cron("15 2 * * *")) { _ = try await recurring.applyLateFees(now: $0.slot) })
/// ```
public struct JobRegistry: Sendable {
    public private(set) var definitions: [JobDefinition] = []

    public init(_ definitions: [JobDefinition] = []) {
        for definition in definitions { add(definition) }
    }

    /// Adds a job; two jobs with one name are a programming error.
    public mutating func add(_ definition: JobDefinition) {
        precondition(!definitions.contains { $0.name == definition.name }, "job \(definition.name) is registered twice")
        definitions.append(definition)
    }

    public subscript(name: String) -> JobDefinition? {
        definitions.first { $0.name == name }
    }

    public var names: [String] { definitions.map(\.name) }
}
