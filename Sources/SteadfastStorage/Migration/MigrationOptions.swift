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
    /// Copy passes before the switch: the first copies every file, later ones what was uploaded
    /// meanwhile. When files keep arriving the switch happens after the last pass anyway, and
    /// what arrives later is copied after it (see ``settleTime``).
    public var passesBeforeSwitch: Int
    /// How long nodes may go on writing to the old target after the switch — their
    /// `storage.route_refresh_interval` plus a margin. The migrator keeps copying what arrives
    /// there until this has passed and a pass finds nothing.
    public var settleTime: Duration
    /// The clock that times the run: rate, ETA, progress throttling and the settle time (its
    /// waits sleep on it). Tests inject a virtual one instead of sleeping.
    public var clock: any Clock<Duration>

    /// Creates options (defaults: 2 files at a time, read-back verification, 500 per page,
    /// progress every 250 ms, 5 passes before the switch, no settle time).
    public init(
        concurrency: Int = 2,
        verifyByReadingBack: Bool = true,
        pageSize: Int = 500,
        progressInterval: Duration = .milliseconds(250),
        passesBeforeSwitch: Int = 5,
        settleTime: Duration = .zero,
        clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.concurrency = max(1, concurrency)
        self.verifyByReadingBack = verifyByReadingBack
        self.pageSize = max(1, pageSize)
        self.progressInterval = progressInterval
        self.passesBeforeSwitch = max(1, passesBeforeSwitch)
        self.settleTime = settleTime
        self.clock = clock
    }
}

/// Reads `clock` now and returns a function giving the time passed since, on the same clock.
/// (Generic so an `any Clock<Duration>` is opened once and its instants stay typed.)
func stopwatch<C: Clock<Duration>>(on clock: C) -> @Sendable () -> Duration {
    let start = clock.now
    return { start.duration(to: clock.now) }
}
