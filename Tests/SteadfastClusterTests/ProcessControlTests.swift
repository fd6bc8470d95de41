import Foundation
import SteadfastCluster
import SteadfastTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Detached processes: their own session, none of our descriptors, and records that never
/// mistake another process (or a zombie) for the one started.
struct ProcessControlTests {
    @Test func aDetachedProcessHasItsOwnSessionAndNoneOfOurDescriptors() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-process")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A descriptor without close-on-exec, as Foundation's Process keeps one to watch a child's exit.
        let inherited = open(directory.appendingPathComponent("held").path, O_CREAT | O_WRONLY, 0o600)
        try #require(inherited > 2)
        defer { close(inherited) }
        let log = directory.appendingPathComponent("log").path
        let record = try ProcessControl.spawnDetached(
            ["/bin/sh", "-c", "ls /proc/$$/fd; echo session=$(cut -d ' ' -f 6 /proc/$$/stat); exec sleep 30"],
            environment: ["PATH": "/usr/bin:/bin"], workingDirectory: directory.path, logPath: log
        )
        #expect(ProcessControl.isRunning(record))
        let printed = await ProcessControl.waitUntil(timeout: .seconds(10)) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("session=")
        }
        #expect(printed)
        let lines = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!lines.contains(String(inherited)), "\(lines)")
        #expect(lines.contains("session=\(record.pid)"), "\(lines)")

        // The same PID with another start time is another process: never signalled, never "running".
        var impostor = record
        impostor.startTime += 1
        #expect(!ProcessControl.isRunning(impostor))
        ProcessControl.signal(impostor, SIGKILL)
        #expect(ProcessControl.isRunning(record))

        await ProcessControl.killHard(record, tree: true)
        #expect(!ProcessControl.isRunning(record))
    }

    @Test func commandsRunToCompletionAndAFailureNamesOnlyTheProgram() async throws {
        let (status, output) = try await ProcessControl.run(["/bin/sh", "-c", "echo hello; exit 3"], environment: [:])
        #expect(status == 3 && output == "hello")
        do {
            try await ProcessControl.runChecked(["/bin/sh", "-c", "exit 1", "secret-password"], environment: [:])
            Issue.record("a failing command was not reported")
        } catch {
            #expect(error.message.contains("sh failed (exit 1)") && !error.message.contains("secret-password"))
        }
    }

    /// A command past its time limit (`withDeadline`) is killed and reported, naming only the program.
    @Test func aCommandPastItsLimitIsKilledAndReported() async throws {
        let marker = "steadfast-limit-\(UInt32.random(in: 0...UInt32.max))"
        do {
            // A shell that never ends and starts no child (a builtin loop), marked to be found.
            _ = try await ProcessControl.run(["/bin/sh", "-c", "while :; do :; done # \(marker)"], environment: [:], timeout: .milliseconds(300))
            Issue.record("a command past its limit was not reported")
        } catch {
            #expect(error.message == "sh did not finish within 300ms", "\(error.message)")
        }
        // Killed at the limit: it does not run on.
        #expect(await ProcessControl.waitUntil(timeout: .seconds(10)) { !Self.running(marker) })
    }

    /// Whether a process whose command line contains `text` runs (a zombie has none: it is gone).
    static func running(_ text: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { entry in
            guard Int32(entry) != nil, let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !command.isEmpty else { return false }
            return String(decoding: command, as: UTF8.self).contains(text)
        }
    }
}
