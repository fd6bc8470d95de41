import Foundation

/// Runs a command to completion for tests (python3 oracles, curl, aws) with a time limit,
/// capturing its output through temporary files (pipes could fill up and block the child).
public enum ProcessRunner {
    /// What a finished command left.
    public struct Result: Sendable {
        /// Exit status (or 128 + signal).
        public let status: Int32
        /// Everything written to standard output.
        public let standardOutput: Data
        /// Everything written to standard error, as text.
        public let standardError: String

        /// Standard output as UTF-8 text.
        public var output: String { String(decoding: standardOutput, as: UTF8.self) }
    }

    /// Runs `arguments[0]` (looked up on PATH) with the rest as arguments. Kills it by PID
    /// after `timeout` and throws.
    public static func run(
        _ arguments: [String],
        environment: [String: String]? = nil,
        standardInput: Data? = nil,
        timeout: Duration = .seconds(120)
    ) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("steadfast-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let standardInput {
            let inURL = directory.appendingPathComponent("stdin")
            try standardInput.write(to: inURL)
            process.standardInput = try FileHandle(forReadingFrom: inURL)
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        let finished = await eventually(timeout: timeout, interval: .milliseconds(20)) { !process.isRunning }
        guard finished else {
            process.killAndReap()
            throw ProcessRunnerError(message: "\(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        try outHandle.close()
        try errHandle.close()
        return Result(
            status: process.terminationStatus,
            standardOutput: try Data(contentsOf: outURL),
            standardError: String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        )
    }
}

/// A command that could not be run or did not finish in time.
public struct ProcessRunnerError: Error, CustomStringConvertible {
    /// What happened.
    public let message: String
    /// Creates an error.
    public init(message: String) { self.message = message }
    public var description: String { message }
}
