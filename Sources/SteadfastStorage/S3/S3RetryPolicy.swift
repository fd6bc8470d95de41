/// When and how long the S3 backend waits before trying a request again.
///
/// Retried: 5xx and 429 answers, S3's `RequestTimeout`, connection errors and timeouts.
/// The wait before retry *n* is random in `0 ..< min(maximumDelay, baseDelay × 2ⁿ⁻¹)`
/// ("full jitter"), so many nodes failing together do not retry together. Randomness and
/// sleeping are injectable for tests.
public struct S3RetryPolicy: Sendable {
    /// Total tries, the first included (1 = no retry).
    public var maximumAttempts: Int
    /// Upper bound of the first wait.
    public var baseDelay: Duration
    /// Upper bound of any wait.
    public var maximumDelay: Duration
    /// A random number in `0 ..< 1`.
    public var random: @Sendable () -> Double
    /// Waits; `Task.sleep` by default. A `StorageRegistry` built from configuration gives its
    /// S3 targets the node's clock's sleep.
    public var sleep: @Sendable (Duration) async throws -> Void

    /// Creates a policy (defaults: 4 tries, waits up to 0.1 s, 0.2 s, 0.4 s, capped at 5 s).
    public init(
        maximumAttempts: Int = 4,
        baseDelay: Duration = .milliseconds(100),
        maximumDelay: Duration = .seconds(5),
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.random = random
        self.sleep = sleep
    }

    /// The default for data requests.
    public static var standard: S3RetryPolicy { S3RetryPolicy() }

    /// The default for aborting a failed multipart upload: more patient (about 30 s in all),
    /// because an abort that never arrives leaves billed parts behind.
    public static var abort: S3RetryPolicy {
        S3RetryPolicy(maximumAttempts: 10, baseDelay: .milliseconds(250), maximumDelay: .seconds(8))
    }

    /// The wait before retry number `retry` (1 for the first retry).
    public func delay(beforeRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = min(maximumDelay, baseDelay * (1 << exponent))
        let fraction = min(max(random(), 0), 0.999_999)
        return ceiling * fraction
    }
}
