import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one way Steadfast starts a child process: `posix_spawn` with standard input from
/// /dev/null, output (and errors) appended to files, **no other descriptor of ours**, and the
/// signal mask and dispositions reset. The cluster commands and the tests' servers both start
/// their children here. (swift-subprocess would do, but it owns the child's life with pipes and
/// a monitor, and the cluster's components must outlive the command that starts them.)
///
/// - Descriptors: SwiftNIO creates its sockets without `SOCK_CLOEXEC`, so a child started
///   without closing them keeps every connection and listener of ours open for as long as it
///   runs. A test's PostgreSQL connection, closed by the test, then stayed open inside another
///   test's postmaster, and the server never saw the close; a cluster component would keep a
///   port of the command that started it.
/// - Signals: the threads of a Swift process (NIO, Dispatch) block most signals, and a child
///   inherits the mask of the thread that starts it; Foundation's `Process` passes it on, so a
///   child started that way could not be stopped with SIGTERM and missed its own timers.
public enum Spawn {
    /// A child could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `command` (`command[0]` is the executable's path) and returns its PID; the caller
    /// reaps it. `environment` is the child's whole environment. `newSession` starts it in a
    /// session of its own (setsid), so it outlives its starter and no terminal signal reaches it.
    public static func start(
        _ command: [String], environment: [String: String], workingDirectory: String? = nil,
        outputPath: String, errorPath: String? = nil, newSession: Bool = false
    ) throws(Failure) -> pid_t {
        guard let executable = command.first else { throw Failure(description: "no command to start") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        if let errorPath {
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_APPEND, 0o640)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let workingDirectory {
            guard let addChdir else { throw Failure(description: "this C library has no posix_spawn_file_actions_addchdir_np") }
            guard addChdir(&actions, workingDirectory) == 0 else { throw Failure(description: "cannot start \(executable) in \(workingDirectory)") }
        }
        if let addClosefrom {
            guard addClosefrom(&actions, 3) == 0 else { throw Failure(description: "cannot start \(executable) without our descriptors") }
        } else {
            // glibc 2.29–2.33 only: a descriptor opened by another thread between this listing
            // and the spawn would still reach the child.
            for fd in openDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if newSession { flags |= posixSpawnSetsid }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            // The error may be about the output files or the directory as well as the program.
            let files = ([outputPath, errorPath, workingDirectory].compactMap { $0 }).joined(separator: ", ")
            throw Failure(description: "cannot start \(executable) (files and directory: \(files)): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// The exit status if our child `pid` has exited (negative: killed by that signal), reaping
    /// it; nil while it runs.
    public static func exitStatusIfExited(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : -signal
    }

    /// glibc's POSIX_SPAWN_SETSID (2.26+), which Swift's Glibc module does not export.
    private static let posixSpawnSetsid: Int32 = 0x80

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc (2.29+) declares `posix_spawn_file_actions_addchdir_np` only under `_GNU_SOURCE`,
    /// which Swift's Glibc module does not define, so it is looked up at run time.
    private static let addChdir: AddChdir? = {
        // A null handle is glibc's RTLD_DEFAULT: search every object loaded into the process.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    private typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+), looked up like `addChdir`.
    private static let addClosefrom: AddClosefrom? = {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: AddClosefrom.self)
    }()

    /// This process's open descriptors (for C libraries without `addclosefrom_np`).
    private static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap { Int32($0) }
    }
}
