import Foundation
import SteadfastConcurrency
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real child process started by a test: output goes to files (read at any time), and the test
/// can wait for a line, send signals, and wait for the exit status. Only processes started here
/// are ever signalled, always by their own PID. A process still running when the object is
/// released is killed.
public final class ManagedProcess: Sendable {
    public let pid: Int32
    public let name: String
    public let stdoutPath: String
    public let stderrPath: String
    private let exitStatus = LockedBox<Int32?>(nil)

    /// Starts `executable` with `arguments`; `environment` entries are added to the current
    /// environment (a `nil` value removes the variable). Started through ``Spawn``
    /// (SteadfastConcurrency), so the child gets a clean signal mask (SIGTERM and its own timers
    /// work) and none of our descriptors.
    public init(name: String, executable: String, arguments: [String], environment: [String: String?] = [:], workingDirectory: URL? = nil, logDirectory: URL) throws {
        self.name = name
        let stdoutURL = logDirectory.appendingPathComponent("\(name).stdout.log")
        let stderrURL = logDirectory.appendingPathComponent("\(name).stderr.log")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        stdoutPath = stdoutURL.path
        stderrPath = stderrURL.path
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        pid = try Spawn.start(
            [executable] + arguments, environment: env, workingDirectory: workingDirectory?.path,
            outputPath: stdoutPath, errorPath: stderrPath
        )
    }

    deinit {
        if refreshedStatus() == nil {
            kill(pid, SIGKILL)
            _ = eventuallyBlocking(timeout: .milliseconds(100), interval: .milliseconds(1)) { refreshedStatus() != nil }
        }
    }

    /// The exit status, reaping the child once it has exited.
    private func refreshedStatus() -> Int32? {
        exitStatus.with { status in
            if status == nil { status = Spawn.exitStatusIfExited(pid) }
            return status
        }
    }

    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    public var isRunning: Bool { refreshedStatus() == nil }

    /// Waits until standard output contains a line matching `pattern` and returns the first
    /// capture group (or the whole match); fails if the process exits or time runs out.
    public func waitForOutput(matching pattern: String, timeout: Duration = .seconds(60)) async throws -> String {
        let groups = try await waitForMatch(pattern, timeout: timeout)
        return groups.count > 1 ? groups[1] : groups[0]
    }

    /// Like ``waitForOutput(matching:timeout:)`` but returns the whole match and every group.
    public func waitForMatch(_ pattern: String, timeout: Duration = .seconds(60)) async throws -> [String] {
        let regex = try NSRegularExpression(pattern: pattern)
        return try await waitFor("\(name) to print /\(pattern)/; stderr:\n\(stderr.suffix(4000))", timeout: timeout, interval: .milliseconds(50)) {
            let text = stdout
            if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                return (0..<match.numberOfRanges).map { index in
                    Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
                }
            }
            if !isRunning {
                throw HarnessError("\(name) exited (\(refreshedStatus() ?? 0)) before printing /\(pattern)/; stderr:\n\(stderr.suffix(4000))")
            }
            return nil
        }
    }

    /// Sends `signal` (SIGTERM, SIGKILL, SIGHUP...) to this process.
    public func send(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits for the process to exit; returns its status (negative: killed by that signal).
    public func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        try await waitFor("\(name) (pid \(pid)) to exit", timeout: timeout, interval: .milliseconds(20)) { refreshedStatus() }
    }

    /// SIGKILL and wait: for clean-up and crash tests.
    public func kill9() async {
        send(SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(30))
    }
}
