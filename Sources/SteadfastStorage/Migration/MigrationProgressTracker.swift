import Synchronization
import SteadfastDomain

/// Counts a running migration's files and bytes from several copying tasks and turns them
/// into throttled ``MigrationProgress`` reports.
final class MigrationProgressTracker: Sendable {
    private struct State {
        var filesTotal: Int
        var bytesTotal: Int64
        var filesDone = 0
        var bytesDone: Int64 = 0
        var bytesTransferred: Int64 = 0
        var failures = 0
        var lastReport: Duration?
    }

    private let state: Mutex<State>
    /// Time since the tracker was made, on the options' clock.
    private let elapsed: @Sendable () -> Duration
    private let options: MigrationOptions
    private let report: @Sendable (MigrationProgress) -> Void

    init(filesTotal: Int, bytesTotal: Int64, options: MigrationOptions, report: @escaping @Sendable (MigrationProgress) -> Void) {
        self.state = Mutex(State(filesTotal: filesTotal, bytesTotal: bytesTotal))
        self.options = options
        self.elapsed = stopwatch(on: options.clock)
        self.report = report
    }

    /// Files uploaded while the migration runs, found after the totals were counted.
    func discovered(files: Int, bytes: Int64) {
        state.withLock { state in
            state.filesTotal += files
            state.bytesTotal += bytes
        }
    }

    /// Bytes of a file streamed to the target.
    func transferred(_ count: Int) {
        emit(force: false) { state in
            state.bytesDone += Int64(count)
            state.bytesTransferred += Int64(count)
        }
    }

    /// A copy failed after `count` bytes: they do not count as done.
    func rolledBack(_ count: Int64) {
        state.withLock { state in
            state.bytesDone -= count
            state.bytesTransferred -= count
        }
    }

    /// A file is finished: `uncountedBytes` are its bytes not already reported by
    /// ``transferred(_:)`` (its whole size when it needed no copy).
    func fileFinished(uncountedBytes: Int64, failed: Bool) {
        emit(force: true) { state in
            state.filesDone += 1
            state.bytesDone += uncountedBytes
            if failed { state.failures += 1 }
        }
    }

    /// The latest numbers.
    func snapshot() -> MigrationProgress {
        let now = elapsed()
        return state.withLock { progress(of: $0, at: now) }
    }

    private func emit(force: Bool, _ change: (inout State) -> Void) {
        let now = elapsed()
        let progress: MigrationProgress? = state.withLock { state in
            change(&state)
            if !force, let last = state.lastReport, now - last < options.progressInterval { return nil }
            state.lastReport = now
            return self.progress(of: state, at: now)
        }
        if let progress { report(progress) }
    }

    private func progress(of state: State, at elapsed: Duration) -> MigrationProgress {
        let seconds = elapsed.totalSeconds
        let rate = seconds > 0 ? Double(state.bytesTransferred) / seconds : 0
        let remaining = max(0, state.bytesTotal - state.bytesDone)
        let eta: Duration? = rate > 0 ? .seconds(Double(remaining) / rate) : (remaining == 0 ? .zero : nil)
        return MigrationProgress(
            filesDone: state.filesDone, filesTotal: state.filesTotal, bytesDone: state.bytesDone, bytesTotal: state.bytesTotal,
            failures: state.failures, elapsed: elapsed, bytesPerSecond: rate, estimatedTimeRemaining: eta
        )
    }
}
