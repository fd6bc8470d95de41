import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Process {
    /// SIGKILLs the child and waits, at most `limit`, until it is gone; returns at once if it
    /// already is. Not `waitUntilExit()`: on Linux, Foundation at times never notices a killed
    /// child's exit (it stays `<defunct>`), and `waitUntilExit()` then blocks a cooperative
    /// thread for good and hangs the whole test run (seen under two CPU hogs). Reaping with
    /// `waitpid` here settles it either way. Call it once per process: after it the PID may be
    /// reused, so never signal it again.
    public func killAndReap(within limit: Duration = .seconds(10)) {
        let pid = processIdentifier
        guard pid > 0, isRunning else { return }
        kill(pid, SIGKILL)
        _ = eventuallyBlocking(timeout: limit) {
            guard isRunning else { return true }
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            return reaped == pid || (reaped == -1 && errno == ECHILD)
        }
    }
}
