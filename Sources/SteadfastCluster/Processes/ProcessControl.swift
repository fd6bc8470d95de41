import Foundation
import SteadfastConcurrency
import SteadfastDomain
#if canImport(Glibc)
import Glibc
#endif

/// A started process, as recorded in `DIR/run/NAME.json`: its PID and the kernel's start time
/// of that PID, so a later command never signals another process that reused the number.
public struct ProcessRecord: Codable, Sendable, Equatable {
    public var pid: Int32
    /// Field 22 of /proc/PID/stat (clock ticks since boot).
    public var startTime: UInt64
    /// Set by `stop` and `down`: the component is meant to be down (health `stopped`, not `down`).
    public var stopped: Bool

    public init(pid: Int32, startTime: UInt64, stopped: Bool = false) {
        self.pid = pid
        self.startTime = startTime
        self.stopped = stopped
    }
}

/// Starting, watching and signalling the cluster's processes (Linux: /proc).
public enum ProcessControl {
    /// Starts `command` in a session of its own (setsid), so it outlives the command that started
    /// it and no terminal signal reaches it; standard input is /dev/null, output and errors go
    /// to `logPath` (appended). Signal mask and dispositions are reset (Swift's threads block
    /// signals, which a child would inherit).
    public static func spawnDetached(_ command: [String], environment: [String: String], workingDirectory: String, logPath: String) throws(ClusterError) -> ProcessRecord {
        let pid = try spawn(command, environment: environment, workingDirectory: workingDirectory, outputPath: logPath, newSession: true)
        guard let start = startTime(of: pid) else {
            throw ClusterError("\(command[0]) exited at once; see \(logPath)")
        }
        return ProcessRecord(pid: pid, startTime: start)
    }

    /// Starts `command` through ``Spawn`` (SteadfastConcurrency): standard input from /dev/null,
    /// output appended to `outputPath` and errors to `errorPath` (or with the output), no
    /// descriptor of ours beyond those (a pipe or socket our caller watches for our exit would
    /// otherwise stay open as long as the cluster runs), and the signal mask and dispositions
    /// reset. The caller reaps it (``exitStatus(of:)``).
    public static func spawn(
        _ command: [String], environment: [String: String], workingDirectory: String, outputPath: String, errorPath: String? = nil, newSession: Bool
    ) throws(ClusterError) -> pid_t {
        do {
            return try Spawn.start(
                command, environment: environment, workingDirectory: workingDirectory, outputPath: outputPath, errorPath: errorPath, newSession: newSession
            )
        } catch {
            throw ClusterError(error.description)
        }
    }

    /// Whether the recorded process still runs: same PID and start time, and not a zombie.
    public static func isRunning(_ record: ProcessRecord) -> Bool {
        reapIfOurs(record.pid)
        guard let stat = stat(of: record.pid) else { return false }
        return stat.state != "Z" && stat.state != "X" && stat.startTime == record.startTime
    }

    /// Start time of a live PID (nil when it is gone or a zombie).
    static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = stat(of: pid), stat.state != "Z" else { return nil }
        return stat.startTime
    }

    /// Every process below `pid` (children, their children...), deepest last.
    public static func descendants(of pid: pid_t) -> [pid_t] {
        let parents = parentMap()
        var result: [pid_t] = []
        var frontier = [pid]
        while let parent = frontier.popLast() {
            let children = parents.filter { $0.value == parent }.map(\.key)
            result += children
            frontier += children
        }
        return result
    }

    /// Sends `signal` to the recorded process if it is still the same process.
    public static func signal(_ record: ProcessRecord, _ number: Int32) {
        guard isRunning(record) else { return }
        kill(record.pid, number)
    }

    /// SIGKILL to the process and, with `tree`, everything below it (a PostgreSQL postmaster's
    /// backends would otherwise live on for a moment and answer queries). Waits until gone.
    public static func killHard(_ record: ProcessRecord, tree: Bool, extra: [pid_t] = [], timeout: Duration = .seconds(10)) async {
        var victims: [pid_t] = []
        if isRunning(record) {
            victims = [record.pid] + (tree ? descendants(of: record.pid) : [])
        }
        for pid in extra where startTime(of: pid) != nil {
            victims += [pid] + (tree ? descendants(of: pid) : [])
        }
        // Stop first so none of them can start a replacement, then kill.
        for pid in victims { kill(pid, SIGSTOP) }
        for pid in victims { kill(pid, SIGKILL) }
        _ = await waitUntil(timeout: timeout) { victims.allSatisfy { startTime(of: $0) == nil } }
    }

    /// Waits, at most `timeout`, until the recorded process has exited; true if it has.
    public static func waitForExit(_ record: ProcessRecord, timeout: Duration) async -> Bool {
        await waitUntil(timeout: timeout) { !isRunning(record) }
    }

    /// Checks `condition` every `interval` until it holds or `timeout` passes; true if it held.
    /// External processes and servers give no event to wait on, so every wait of the cluster
    /// commands goes through this, always bounded: the one polling loop,
    /// `poll(every:within:clock:until:)` (SteadfastConcurrency), in real time.
    public static func waitUntil(timeout: Duration, interval: Duration = .milliseconds(50), _ condition: () async -> Bool) async -> Bool {
        await poll(every: interval, within: timeout, until: condition)
    }

    /// Runs a command to completion (bounded by `timeout`; killed after it), output captured
    /// through a temporary file (a pipe could be held open by a server the command started).
    public static func run(_ command: [String], environment: [String: String], timeout: Duration = .seconds(120)) async throws(ClusterError) -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-cluster-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try spawn(command, environment: environment, workingDirectory: "/tmp", outputPath: outputPath, newSession: false)
        guard let status = await exitStatus(of: pid, within: timeout) else {
            throw ClusterError("\(programName(command)) did not finish within \(DurationText.format(timeout))")
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Like ``run(_:environment:timeout:)`` but a non-zero status is an error carrying the output.
    @discardableResult
    public static func runChecked(_ command: [String], environment: [String: String], timeout: Duration = .seconds(120)) async throws(ClusterError) -> String {
        let (status, output) = try await run(command, environment: environment, timeout: timeout)
        guard status == 0 else {
            throw ClusterError("\(programName(command)) failed (exit \(status)): \(output.suffix(2000))")
        }
        return output
    }

    /// Waits for our child `pid` to end, on a thread of its own (`waitpid` blocks, so not on the
    /// concurrency pool, and no polling); its exit status, or 128 + the signal that ended it.
    public static func exitStatus(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { continuation in
            Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }.start()
        }
    }

    /// ``exitStatus(of:)``, or nil after `timeout`: then the child is killed (SIGKILL) and reaped
    /// before this returns. (`withDeadline` waits for its operation, and the wait for an exit
    /// ends only when the child does: the kill, on the deadline's cancellation, is what ends it.
    /// A cancelled caller kills the child too, and gets its status.)
    public static func exitStatus(of pid: pid_t, within timeout: Duration) async -> Int32? {
        do {
            return try await withDeadline(timeout) {
                await withTaskCancellationHandler { await exitStatus(of: pid) } onCancel: { kill(pid, SIGKILL) }
            }
        } catch {
            return nil
        }
    }

    /// The program a command runs, for messages (never its arguments: they may hold a password).
    static func programName(_ command: [String]) -> String {
        let program = command.firstIndex(of: "--").map { command.index(after: $0) }.flatMap { command.indices.contains($0) ? command[$0] : nil } ?? command[0]
        return URL(fileURLWithPath: program).lastPathComponent
    }

    // MARK: /proc

    struct Stat {
        var state: Character
        var parent: pid_t
        var startTime: UInt64
    }

    static func stat(of pid: pid_t) -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = text.lastIndex(of: ")") else { return nil }
        // After "pid (comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
        // utime stime cutime cstime priority nice threads itrealvalue starttime ...
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]), let start = UInt64(fields[19]) else { return nil }
        return Stat(state: state, parent: parent, startTime: start)
    }

    static func parentMap() -> [pid_t: pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        var map: [pid_t: pid_t] = [:]
        for entry in entries {
            guard let pid = pid_t(entry), let stat = stat(of: pid) else { continue }
            map[pid] = stat.parent
        }
        return map
    }

    /// Reaps `pid` if it is an exited child of this process (a command that started and then
    /// stopped a component in the same run would otherwise see its zombie as alive).
    static func reapIfOurs(_ pid: pid_t) {
        guard let stat = stat(of: pid), stat.state == "Z", stat.parent == getpid() else { return }
        var raw: Int32 = 0
        _ = waitpid(pid, &raw, WNOHANG)
    }
}
