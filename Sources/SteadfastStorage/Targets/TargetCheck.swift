import Foundation
import SteadfastDomain

/// The outcome of checking one target: its latency, or the error that explains what is wrong.
/// ``line`` is the line `steadfast storage check` prints.
public struct TargetCheck: Sendable, CustomStringConvertible {
    /// The target's name.
    public var target: String
    /// What was checked (`local directory /mnt/nas`, `S3 bucket files at s3...`).
    public var targetDescription: String
    /// Time taken, when the check passed.
    public var latency: Duration?
    /// Why the check failed, if it did.
    public var error: StorageError?

    /// Whether the target passed.
    public var isHealthy: Bool { error == nil }

    /// `nas          ok      3.1 ms  local directory /mnt/nas` or
    /// `s3-main      FAILED  S3 bucket ...: <reason>`.
    public var line: String {
        let name = target.padding(toLength: max(12, target.count), withPad: " ", startingAt: 0)
        if let error { return "\(name)  FAILED  \(targetDescription): \(error.message)" }
        return "\(name)  ok  \(DurationText.formatMeasured(latency ?? .zero))  \(targetDescription)"
    }

    public var description: String { line }

}
