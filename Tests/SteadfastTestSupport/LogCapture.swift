import Logging
import Synchronization

/// One log record: message and metadata (the logger's and the call's) as text.
public struct CapturedLog: Sendable {
    public let level: Logger.Level
    public let message: String
    public let metadata: [String: String]
}

/// Where ``CapturingLogHandler``s put their records.
public final class LogCapture: Sendable {
    private let stored = Mutex<[CapturedLog]>([])
    public init() {}
    public var records: [CapturedLog] { stored.withLock { $0 } }
    public func append(_ record: CapturedLog) { stored.withLock { $0.append(record) } }
}

/// A log handler keeping every record in memory (a value, like every handler: each logger's
/// metadata is its own), for tests that check what was logged.
public struct CapturingLogHandler: LogHandler {
    public let capture: LogCapture
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(capture: LogCapture) { self.capture = capture }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
        var merged = self.metadata
        merged.merge(metadata ?? [:]) { $1 }
        capture.append(CapturedLog(level: level, message: message.description, metadata: merged.mapValues { "\($0)" }))
    }
}
