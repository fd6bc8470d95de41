import Foundation

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
    func execute(_ arguments: [String]) async throws -> Data {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-chaos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = ["cluster"] + arguments + ["--dir", directory]
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withThrowingTaskGroup(of: Int32?.self) { group in
            // Output goes to files, not pipes, so a chatty child never blocks on a full pipe.
            let exited = AsyncStream<Int32> { continuation in
                process.terminationHandler = { finished in
                    continuation.yield(finished.terminationStatus)
                    continuation.finish()
                }
            }
            try process.run()
            group.addTask {
                for await status in exited { return status }
                return nil
            }
            group.addTask { [timeout] in
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            if first == nil, process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            return first ?? -1
        }
        let output = (try? Data(contentsOf: outURL)) ?? Data()
        guard status == 0 else {
            let text = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let what = status == -1 ? "did not finish within \(timeout)" : "exited with status \(status)"
            throw ChaosError("steadfast cluster \(arguments.joined(separator: " ")) \(what)\(text.isEmpty ? "" : ": \(text.suffix(600))")")
        }
        return output
    }
}
