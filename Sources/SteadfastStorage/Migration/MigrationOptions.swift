/// How ``StorageMigrator`` works.
public struct MigrationOptions: Sendable {
    /// Files copied at the same time.
    public var concurrency: Int
    /// After copying, read the copy back and check its SHA-256 (on by default). Off, a copy is
    /// verified by the SHA-256 computed while it was written (the bytes sent to the target).
    public var verifyByReadingBack: Bool
    /// Files fetched from the catalogue per page.
    public var pageSize: Int
    /// Least time between two byte-progress reports (file completions always report).
    public var progressInterval: Duration
    /// The monotonic clock for rate and ETA (injectable for tests).
    public var now: @Sendable () -> ContinuousClock.Instant

    /// Creates options (defaults: 2 files at a time, read-back verification, 500 per page,
    /// progress every 250 ms).
    public init(
        concurrency: Int = 2,
        verifyByReadingBack: Bool = true,
        pageSize: Int = 500,
        progressInterval: Duration = .milliseconds(250),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }
    ) {
        self.concurrency = max(1, concurrency)
        self.verifyByReadingBack = verifyByReadingBack
        self.pageSize = max(1, pageSize)
        self.progressInterval = progressInterval
        self.now = now
    }
}
