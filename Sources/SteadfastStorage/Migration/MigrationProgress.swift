import Foundation

/// Where a migration stands: what `steadfast storage migrate` draws as its progress bar.
public struct MigrationProgress: Sendable, Hashable {
    /// Files done (copied, found already verified, or failed).
    public var filesDone: Int
    /// Files of the type.
    public var filesTotal: Int
    /// Bytes of the files done plus bytes of the file(s) in flight.
    public var bytesDone: Int64
    /// Bytes of all files of the type.
    public var bytesTotal: Int64
    /// Files that failed so far.
    public var failures: Int
    /// Time since the migration started.
    public var elapsed: Duration
    /// Bytes copied per second in this run (files already in place do not count).
    public var bytesPerSecond: Double
    /// Estimated time left, when the rate is known.
    public var estimatedTimeRemaining: Duration?

    /// Creates a value.
    public init(filesDone: Int, filesTotal: Int, bytesDone: Int64, bytesTotal: Int64, failures: Int, elapsed: Duration, bytesPerSecond: Double, estimatedTimeRemaining: Duration?) {
        self.filesDone = filesDone
        self.filesTotal = filesTotal
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.failures = failures
        self.elapsed = elapsed
        self.bytesPerSecond = bytesPerSecond
        self.estimatedTimeRemaining = estimatedTimeRemaining
    }

    /// One line: `[########------------]  12/40 files  1.2 GiB/3.4 GiB  45.1 MiB/s  ETA 0:52`.
    public func rendered(barWidth: Int = 24) -> String {
        let fraction = bytesTotal > 0 ? Double(bytesDone) / Double(bytesTotal) : (filesTotal > 0 ? Double(filesDone) / Double(filesTotal) : 1)
        let filled = min(barWidth, max(0, Int((fraction * Double(barWidth)).rounded(.down))))
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: barWidth - filled) + "]"
        let eta = estimatedTimeRemaining.map { "ETA \(Self.clock($0))" } ?? "ETA --:--"
        let failed = failures > 0 ? "  \(failures) failed" : ""
        return "\(bar)  \(filesDone)/\(filesTotal) files  \(Self.bytes(bytesDone))/\(Self.bytes(bytesTotal))  \(Self.bytes(Int64(bytesPerSecond)))/s  \(eta)\(failed)"
    }

    /// `512 B`, `1.5 KiB`, `3.2 GiB`.
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `0:52`, `1:02:03`.
    static func clock(_ duration: Duration) -> String {
        let total = max(0, Int(duration.components.seconds))
        let hours = total / 3600, minutes = total % 3600 / 60, seconds = total % 60
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, seconds) : String(format: "%d:%02d", minutes, seconds)
    }
}
