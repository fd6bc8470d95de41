import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts child processes with `posix_spawn`, resetting the signal mask and dispositions.
///
/// Foundation's `Process` passes on the signal mask of whichever thread starts the child, and
/// the threads of a Swift process (NIO, Dispatch) block most signals: a child started that way
/// could not be stopped with SIGTERM and missed its own timers (`pgbench -T` ran forever).
/// Children started here begin with every signal unblocked and at its default action.
public enum Spawn {
    /// Starts `executable`; standard output and error go to `outputPath` (appended), standard
    /// input is /dev/null. Returns the child's PID.
    public static func start(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        workingDirectory: String? = nil, stdoutPath: String, stderrPath: String? = nil
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let workingDirectory {
            guard let addChdir = Self.addChdir else {
                throw HarnessError("this C library has no posix_spawn_file_actions_addchdir_np")
            }
            _ = addChdir(&actions, workingDirectory)
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
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environmentStrings = (environment ?? ProcessInfo.processInfo.environment).map { "\($0.key)=\($0.value)" }
        let envp: [UnsafeMutablePointer<CChar>?] = environmentStrings.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }

        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else {
            throw HarnessError("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// glibc (2.29+) declares `posix_spawn_file_actions_addchdir_np` only under `_GNU_SOURCE`,
    /// which Swift's Glibc module does not define, so it is looked up at run time.
    private static let addChdir: AddChdir? = {
        // A null handle is glibc's RTLD_DEFAULT: search every object loaded into the process.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: AddChdir.self)
    }()

    /// The exit status if the child has exited (negative: killed by that signal), reaping it.
    public static func exitStatus(of pid: pid_t) -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : -signal
    }
}
