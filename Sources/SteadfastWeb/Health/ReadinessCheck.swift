/// One dependency `/readyz` checks (`database`, `storage`...). A check throws to report failure;
/// its error message is shown in the readiness answer, so it must not contain secrets.
public struct ReadinessCheck: Sendable {
    public let name: String
    let run: @Sendable () async throws -> Void

    public init(name: String, run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.run = run
    }
}
