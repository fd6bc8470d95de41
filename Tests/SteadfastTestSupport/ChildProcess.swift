import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real child process for live tests: started from an executable built next to the test
/// binary, its stdout and stderr captured to files, waited on for a line it prints, signalled
/// and killed by its own PID only. `stop()` is idempotent; call it from every exit path (see
/// ``ChildProcessGroup``).
public final class ChildProcess: Sendable {
    public let name: String
    public let stdoutPath: String
    public let stderrPath: String
    private let process: Process

    /// Starts `executable` (a product name such as `steadfast`, or an absolute path) with `arguments`.
    public init(executable: String, arguments: [String], name: String, directory: URL) throws {
        self.name = name
        let url = executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : TestPaths.buildDirectory.appendingPathComponent(executable)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw ChildProcessError(message: "\(url.path) is not built; run swift build --build-tests")
        }
        stdoutPath = directory.appendingPathComponent("\(name).out").path
        stderrPath = directory.appendingPathComponent("\(name).err").path
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
        self.process = process
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits until the process printed a line starting with `prefix`, and returns that line.
    public func waitForLine(startingWith prefix: String, timeout: Duration = .seconds(30)) async throws -> String {
        try await waitFor("\(name) to print '\(prefix)'", timeout: timeout, interval: .milliseconds(20)) {
            if let line = standardOutput.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                return String(line)
            }
            guard process.isRunning else {
                throw ChildProcessError(message: "\(name) exited (\(process.terminationStatus)) before printing '\(prefix)': \(standardError.suffix(2000))")
            }
            return nil
        }
    }

    /// Sends `signal` to this process (and only this one).
    public func send(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for the process to exit; returns its status, or nil on timeout.
    public func waitForExit(timeout: Duration = .seconds(30)) async -> Int32? {
        await poll(timeout: timeout, interval: .milliseconds(20)) { process.isRunning ? nil : process.terminationStatus }
    }

    /// Kills the process (SIGKILL) and reaps it. Safe to call more than once.
    public func stop() async {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        _ = await waitForExit(timeout: .seconds(10))
    }
}

/// An error from starting or waiting for a ``ChildProcess``.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The child processes of one live test and a scratch directory; ``run(_:)`` stops every
/// process it started and removes the directory however the test ends.
public final class ChildProcessGroup: Sendable {
    public let directory: URL
    private let children = Mutex<[ChildProcess]>([])

    private init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-live-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Runs `body` with a fresh group and always cleans up afterwards.
    public static func run<T>(_ body: (ChildProcessGroup) async throws -> T) async throws -> T {
        let group = try ChildProcessGroup()
        do {
            let result = try await body(group)
            await group.stopAll()
            return result
        } catch {
            await group.stopAll()
            throw error
        }
    }

    /// Starts a child that will be stopped with the group.
    public func start(_ executable: String, _ arguments: [String], name: String) throws -> ChildProcess {
        let child = try ChildProcess(executable: executable, arguments: arguments, name: name, directory: directory)
        children.withLock { $0.append(child) }
        return child
    }

    public func stopAll() async {
        for child in children.withLock({ $0 }) { await child.stop() }
        try? FileManager.default.removeItem(at: directory)
    }
}
