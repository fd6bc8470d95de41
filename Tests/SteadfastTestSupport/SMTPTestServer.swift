import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real SMTP server for tests: `Tests/SteadfastMailTests/Fixtures/smtp_sink.py` (Python
/// `aiosmtpd`, installed by scripts/test.sh) on 127.0.0.1 at a free port, killed by PID when the
/// test is done. It records every accepted message as a file; see the script for its modes.
public final class SMTPTestServer: Sendable {
    public enum Mode: Sendable {
        case accept
        /// 451 for the first `n` DATA attempts, then 250.
        case tempfail(Int)
        /// 550 for every message.
        case reject

        var argument: String {
            switch self {
            case .accept: "accept"
            case .tempfail(let n): "tempfail:\(n)"
            case .reject: "reject"
            }
        }
    }

    public let port: Int
    public let pid: Int32
    public let directory: URL
    /// While this file exists the server holds back its reply to DATA (after recording).
    public let holdFile: URL
    private let process: Process
    private let stopped = LockedBox(false)

    private init(port: Int, process: Process, directory: URL) {
        self.port = port
        self.pid = process.processIdentifier
        self.process = process
        self.directory = directory
        self.holdFile = directory.appendingPathComponent("hold")
    }

    /// Starts a server and waits (at most `timeout`) until it listens.
    /// `tls`: PEM certificate and key files; the server then offers STARTTLS and requires it.
    public static func start(
        mode: Mode = .accept, auth: (user: String, password: String)? = nil, tls: (certificate: String, key: String)? = nil, timeout: Duration = .seconds(20)
    ) async throws -> SMTPTestServer {
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/SteadfastMailTests/Fixtures/smtp_sink.py").path
        var lastError: any Error = SMTPTestServerError(message: "smtp_sink.py did not start")
        for _ in 0..<3 {
            let port = try FreePort.next()
            let directory = try TestPaths.makeTemporaryDirectory(prefix: "smtp-sink")
            let log = directory.appendingPathComponent("server.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            var arguments = ["python3", script, "--port", String(port), "--dir", directory.path, "--mode", mode.argument,
                             "--hold", directory.appendingPathComponent("hold").path]
            if let auth { arguments += ["--auth", "\(auth.user):\(auth.password)"] }
            if let tls { arguments += ["--tls", "\(tls.certificate):\(tls.key)"] }
            process.arguments = arguments
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            do { try process.run() } catch {
                throw SMTPTestServerError(message: "cannot run python3 \(script) (pip install aiosmtpd): \(error)")
            }
            let server = SMTPTestServer(port: port, process: process, directory: directory)
            // The script writes `ready` once it listens.
            _ = await eventually(timeout: timeout, interval: .milliseconds(50)) {
                !process.isRunning || FileManager.default.fileExists(atPath: directory.appendingPathComponent("ready").path)
            }
            if process.isRunning, FileManager.default.fileExists(atPath: directory.appendingPathComponent("ready").path) { return server }
            lastError = SMTPTestServerError(message: "smtp_sink.py did not start: \(server.log())")
            server.stop()
        }
        throw lastError
    }

    /// The messages received so far, oldest first, as raw bytes (with X-Envelope-* lines first).
    public func messages() -> [[UInt8]] {
        let folder = directory.appendingPathComponent("received")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".eml") }
            .sorted { (Int($0.dropLast(4)) ?? 0) < (Int($1.dropLast(4)) ?? 0) }
        return names.compactMap { FileManager.default.contents(atPath: folder.appendingPathComponent($0).path).map { Array($0) } }
    }

    /// Every DATA attempt: the reply code the server gave and the message's Message-ID.
    public func attempts() -> [(code: Int, messageID: String)] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("attempts.log"), encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let code = Int(parts[0]) else { return nil }
            return (code, String(parts[1]))
        }
    }

    /// Holds back DATA replies until ``release()``.
    public func hold() { _ = FileManager.default.createFile(atPath: holdFile.path, contents: nil) }
    public func release() {
        try? FileManager.default.removeItem(at: holdFile)
        // Wakes the held replies (the server waits for this signal, not on a timer).
        if !stopped.value { kill(pid, SIGUSR1) }
    }

    public func log() -> String {
        ((try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? "").split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    /// Kills the server (SIGKILL by PID) and removes its files.
    public func stop() {
        if stopped.with({ done in defer { done = true }; return !done }) { process.killAndReap() }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit {
        if stopped.with({ done in defer { done = true }; return !done }) { process.killAndReap() }
    }
}

public struct SMTPTestServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
