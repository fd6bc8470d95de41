import Foundation
import SteadfastCluster
import SteadfastDomain

/// The cluster as `steadfast cluster ... --dir DIR` sees it: the chaos command runs the same
/// executable (`/proc/self/exe`) for every operation, so it depends only on that command's
/// contract (docs/chaos.md), not on its code.
public struct ClusterCLI: ClusterControl {
    public let executable: URL
    public let directory: String
    /// Longest a cluster command may take (a rolling restart drains every node in turn).
    public let timeout: Duration

    public init(executable: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath(), directory: String, timeout: Duration = .seconds(300)) {
        self.executable = executable
        self.directory = directory
        self.timeout = timeout
    }

    public func status() async throws -> ClusterStatus {
        let output = try await execute(["status", "--json"])
        return try ClusterStatus.decode(output)
    }

    public func run(_ arguments: [String]) async throws {
        _ = try await execute(arguments)
    }

    public func signal(_ signal: Int32, pid: Int32) throws {
        guard kill(pid, signal) == 0 else {
            throw ChaosError("could not send \(FaultPlan.signalName(signal)) to pid \(pid): \(String(cString: strerror(errno)))")
        }
    }

    /// Runs `cluster ARGUMENTS --dir DIR` and returns its standard output; throws with its
    /// standard error when it exits non-zero or outlives ``timeout`` (then it is killed by pid).
    ///
    /// Not Foundation's `Process`: on Linux it learns that a child ended from a socket the child
    /// inherits, and `cluster start` hands that socket on to the long-lived process it starts,
    /// so the command's end would never be seen. The cluster's own ``ProcessControl`` spawns it
    /// (no descriptor of ours inherited) and reaps it with `waitpid`.
    func execute(_ arguments: [String]) async throws -> Data {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-chaos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("stdout").path
        let errPath = scratch.appendingPathComponent("stderr").path
        let command = [executable.path, "cluster"] + arguments + ["--dir", directory]
        let pid = try ProcessControl.spawn(
            command, environment: ProcessInfo.processInfo.environment, workingDirectory: FileManager.default.currentDirectoryPath,
            outputPath: outPath, errorPath: errPath, newSession: false
        )
        let status = await ProcessControl.exitStatus(of: pid, within: timeout) ?? -1
        let output = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        guard status == 0 else {
            let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let what = status == -1 ? "did not finish within \(DurationText.format(timeout))" : "exited with status \(status)"
            throw ChaosError("steadfast cluster \(arguments.joined(separator: " ")) \(what)\(text.isEmpty ? "" : ": \(text.suffix(600))")")
        }
        return output
    }
}
