import Foundation
import SteadfastConcurrency
import SteadfastTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Spawn` is how every child process starts (the cluster's components, the tests' servers).
@Suite struct SpawnTests {
    /// A socket made as SwiftNIO makes its sockets (no `SOCK_CLOEXEC`) must not live on in a
    /// child: a PostgreSQL connection a test had closed stayed open inside another test's
    /// postmaster, and the server never saw the close.
    @Test func aChildGetsNoDescriptorOfOurs() async throws {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socketDescriptor >= 0)
        defer { close(socketDescriptor) }
        // A copy at 200 or above (the lowest free one: other suites run in this process too).
        let high = fcntl(socketDescriptor, F_DUPFD, 200)
        try #require(high >= 200)
        defer { close(high) }
        // `posix_spawn` returns once the child has run its program, so its descriptors are final.
        let pid = try Spawn.start(["/bin/sleep", "30"], environment: [:], outputPath: "/dev/null")
        defer {
            kill(pid, SIGKILL)
            _ = eventuallyBlocking(timeout: .seconds(5)) { Spawn.exitStatusIfExited(pid) != nil }
        }
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        #expect(Set(descriptors) == ["0", "1", "2"], "the child holds \(descriptors.sorted()); ours were \(socketDescriptor) and \(high)")
    }

    /// Standard input is /dev/null, errors go with the output unless given a file of their
    /// own, the environment is exactly the one given, and the child runs in the directory asked.
    @Test func theChildGetsTheGivenEnvironmentDirectoryAndFiles() async throws {
        let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-spawn")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("out").path
        let errors = directory.appendingPathComponent("err").path
        let script = "echo \"$GREETING\"; env | grep -c . ; pwd; readlink /proc/$$/fd/0; echo oops >&2; exit 3"
        let pid = try Spawn.start(
            ["/bin/sh", "-c", script], environment: ["GREETING": "hello"], workingDirectory: "/tmp", outputPath: output, errorPath: errors
        )
        #expect(try await waitFor("the child to exit") { Spawn.exitStatusIfExited(pid) } == 3)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init)
        // `sh` itself adds PWD (and may add a few more) to what it was given; nothing of ours leaks.
        #expect(lines.first == "hello")
        #expect(lines.dropFirst(2).first == "/tmp")
        #expect(lines.dropFirst(3).first == "/dev/null")
        #expect(try String(contentsOfFile: errors, encoding: .utf8) == "oops\n")
        #expect(Int(lines.dropFirst().first ?? "") ?? 99 < 5, "environment: \(lines)")
    }

    /// A child killed by a signal reports minus that signal; one not yet exited reports nil.
    @Test func theExitStatusSaysWhetherAndHowTheChildEnded() async throws {
        let pid = try Spawn.start(["/bin/sleep", "60"], environment: [:], outputPath: "/dev/null")
        #expect(Spawn.exitStatusIfExited(pid) == nil)
        kill(pid, SIGTERM)
        #expect(try await waitFor("the child to exit") { Spawn.exitStatusIfExited(pid) } == -SIGTERM)
    }

    @Test func aMissingProgramIsAClearError() {
        #expect(throws: Spawn.Failure.self) {
            _ = try Spawn.start(["/nonexistent/program"], environment: [:], outputPath: "/dev/null")
        }
    }
}
