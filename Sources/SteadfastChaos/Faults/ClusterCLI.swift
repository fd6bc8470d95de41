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
    ///
    /// Not Foundation's `Process`: on Linux it learns that a child ended from a socket the child
    /// inherits, and `cluster start` hands that socket on to the long-lived process it starts,
    /// so the command's end would never be seen. The child is spawned directly and reaped with
    /// `waitpid` on a thread of its own (blocking, so not on the concurrency pool).
    func execute(_ arguments: [String]) async throws -> Data {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-chaos-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("stdout").path
        let errPath = scratch.appendingPathComponent("stderr").path
        let command = [executable.path, "cluster"] + arguments + ["--dir", directory]
        let pid = try Self.spawn(command, stdout: outPath, stderr: errPath)
        let status: Int32 = try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask { await Self.reap(pid) }
            group.addTask { [timeout] in
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            if first == nil {
                // Out of time: kill it; the reaping thread then returns.
                kill(pid, SIGKILL)
            }
            group.cancelAll()
            return first ?? -1
        }
        let output = (try? Data(contentsOf: URL(fileURLWithPath: outPath))) ?? Data()
        guard status == 0 else {
            let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: errPath))) ?? Data(), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let what = status == -1 ? "did not finish within \(timeout)" : "exited with status \(status)"
            throw ChaosError("steadfast cluster \(arguments.joined(separator: " ")) \(what)\(text.isEmpty ? "" : ": \(text.suffix(600))")")
        }
        return output
    }

    /// posix_spawn with standard input from /dev/null and output to the two files.
    static func spawn(_ command: [String], stdout: String, stderr: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Swift's threads block signals; the child must not inherit that mask.
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw ChaosError("cannot run \(command[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    /// Waits for `pid` to end on a dedicated thread; its exit status, or 128 + the signal.
    static func reap(_ pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
            thread.start()
        }
    }
}
