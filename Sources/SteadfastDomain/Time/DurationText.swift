#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The one duration grammar of Steadfast, used by the node's configuration, the job schedules and
/// commands, the balancer's configuration and the operator commands' flags; and its formatters.
///
/// Grammar: a non-negative decimal number followed by a unit — `ms`, `s`, `m`, `h` or `d`, in
/// any case (`500ms`, `1.5s`, `2m`, `1h`, `7d`) — or, where the caller allows it, a bare number
/// of seconds (`30`). Values are whole milliseconds (rounded to the nearest); a value that is
/// negative, not finite, or beyond `Int64.max` milliseconds is refused (nil), never trapped.
public enum DurationText {
    private static let units: [(suffix: String, milliseconds: Double)] = [
        // "ms" before "m" and "s": "5ms" must not be read as minutes or seconds.
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Parses `text` (surrounding spaces ignored); nil when it is not a duration.
    public static func parse(_ text: String, bareNumberIsSeconds: Bool = true) -> Duration? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        for unit in units where lower.hasSuffix(unit.suffix) {
            return milliseconds(number(lower.dropLast(unit.suffix.count)), times: unit.milliseconds)
        }
        return bareNumberIsSeconds ? milliseconds(number(Substring(lower)), times: 1000) : nil
    }

    /// The exact text for `duration` in the largest unit that divides it (`1d`, `90m`, `1500ms`):
    /// what ``parse(_:bareNumberIsSeconds:)`` reads back as the same value. For configured values
    /// and schedules; sub-millisecond parts are dropped.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.totalMilliseconds
        for unit in units.reversed() where unit.milliseconds > 1 {
            let size = Int64(unit.milliseconds)
            if milliseconds != 0 && milliseconds % size == 0 { return "\(milliseconds / size)\(unit.suffix)" }
        }
        return milliseconds == 0 ? "0s" : "\(milliseconds)ms"
    }

    /// A measured time for people: `0.4ms`, `12.3ms`, `1.25s`, `2m05s`.
    public static func formatMeasured(_ duration: Duration) -> String {
        let seconds = duration.totalSeconds
        if seconds < 1 { return String(format: "%.1fms", seconds * 1000) }
        if seconds < 60 { return String(format: "%.2fs", seconds) }
        let whole = Int64(seconds.rounded(.down))
        return String(format: "%lldm%02llds", whole / 60, whole % 60)
    }

    private static func number(_ text: Substring) -> Double? {
        // Double("inf"), Double("nan") and hex floats parse; a duration is digits and one dot.
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else { return nil }
        return Double(text)
    }

    private static func milliseconds(_ value: Double?, times scale: Double) -> Duration? {
        guard let value, value >= 0 else { return nil }
        let total = (value * scale).rounded()
        guard total.isFinite, total < Double(Int64.max) else { return nil }
        return .milliseconds(Int64(total))
    }
}

extension Duration {
    /// Whole milliseconds, rounded toward zero.
    public var totalMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Seconds as a `Double` (for rates, and for APIs that take seconds).
    public var totalSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
