import Foundation

/// Formats instants as ISO 8601 text (UTC, whole seconds) for stored and sent JSON.
enum Timestamp {
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}
