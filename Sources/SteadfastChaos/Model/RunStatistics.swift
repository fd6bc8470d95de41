import Histogram

/// The numbers a report shows about a run's requests, computed from the records alone.
public struct RunStatistics: Codable, Sendable, Equatable {
    /// One second of the run (by request start).
    public struct Second: Codable, Sendable, Equatable {
        public var second: Int
        public var requests: Int
        public var errors: Int
        /// p99 latency of the requests that started in this second, in milliseconds.
        public var p99Milliseconds: Double
    }

    /// The longest run of failed requests with no success in between, in start order.
    public struct Streak: Codable, Sendable, Equatable {
        public var count: Int
        /// From the first failed request's start to the last one's end, in seconds.
        public var seconds: Double
        public var start: Double
    }

    public var requests: Int
    public var failed: Int
    public var failuresByKind: [String: Int]
    /// Successful requests as a percentage of all (100 when there were none).
    public var availabilityPercent: Double
    public var p50Milliseconds: Double
    public var p99Milliseconds: Double
    public var maxMilliseconds: Double
    public var longestErrorStreak: Streak
    public var perSecond: [Second]

    public init(records: [RequestRecord]) {
        let ordered = records.sorted { $0.start < $1.start }
        requests = ordered.count
        failed = ordered.count(where: \.failed)
        var byKind: [String: Int] = [:]
        for record in ordered { if let failure = record.failure { byKind[failure.rawValue, default: 0] += 1 } }
        failuresByKind = byKind
        availabilityPercent = requests == 0 ? 100 : Double(requests - failed) * 100 / Double(requests)
        let all = Self.histogram(ordered)
        p50Milliseconds = Self.milliseconds(all, percentile: 50)
        p99Milliseconds = Self.milliseconds(all, percentile: 99)
        maxMilliseconds = all.totalCount == 0 ? 0 : Double(all.max) / 1000

        var best = Streak(count: 0, seconds: 0, start: 0)
        var current: [RequestRecord] = []
        for record in ordered {
            if record.failed {
                current.append(record)
                if current.count > best.count {
                    let end = current.map(\.end).max() ?? record.end
                    best = Streak(count: current.count, seconds: end - current[0].start, start: current[0].start)
                }
            } else {
                current.removeAll()
            }
        }
        longestErrorStreak = best

        var seconds: [Int: [RequestRecord]] = [:]
        for record in ordered { seconds[Int(record.start.rounded(.down)), default: []].append(record) }
        let last = seconds.keys.max() ?? -1
        perSecond = last < 0 ? [] : (0...last).map { second in
            let inSecond = seconds[second] ?? []
            return Second(
                second: second, requests: inSecond.count, errors: inSecond.count(where: \.failed),
                p99Milliseconds: Self.milliseconds(Self.histogram(inSecond), percentile: 99)
            )
        }
    }

    /// Latencies in microseconds (HdrHistogram, three significant digits).
    static func histogram(_ records: [RequestRecord]) -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        histogram.autoResize = true
        for record in records {
            _ = histogram.record(UInt64(max(0, (record.duration * 1_000_000).rounded())))
        }
        return histogram
    }

    static func milliseconds(_ histogram: Histogram<UInt64>, percentile: Double) -> Double {
        histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }
}
