/// A ticket's public number, `TKT-482913`: six random digits, unique across the cluster.
///
/// Numbers are drawn at random (so nodes need no shared counter) and made unique by the
/// database: `tickets.number` has a unique constraint, and the service draws again when an
/// insert collides. A number is never reused: tickets are never deleted, so the unique
/// constraint keeps every number ever issued taken.
public struct TicketNumber: Sendable, Hashable, CustomStringConvertible, Codable {
    public static let prefix = "TKT-"
    public static let digits = 6
    public static let range = 100_000...999_999

    public let value: Int

    public init(_ value: Int) throws(SupportError) {
        guard Self.range.contains(value) else { throw .invalid("a ticket number has six digits, TKT-100000 to TKT-999999", field: "number") }
        self.value = value
    }

    /// Parses `TKT-482913` (case-insensitive prefix; surrounding spaces ignored).
    public init(parsing text: String) throws(SupportError) {
        var body = Substring(text).drop(while: { $0 == " " })
        while body.last == " " { body = body.dropLast() }
        guard body.count == Self.prefix.count + Self.digits, body.prefix(Self.prefix.count).uppercased() == Self.prefix else {
            throw .invalid("'\(text)' is not a ticket number like TKT-482913", field: "number")
        }
        let digits = body.dropFirst(Self.prefix.count)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(digits) else {
            throw .invalid("'\(text)' is not a ticket number like TKT-482913", field: "number")
        }
        try self.init(value)
    }

    /// A random number from `generator`.
    public static func random(using generator: inout some RandomNumberGenerator) -> TicketNumber {
        // The range is valid by construction.
        try! TicketNumber(Int.random(in: range, using: &generator))
    }

    /// The first `[TKT-123456]` tag in an e-mail subject (how replies by mail find their ticket).
    public static func tagged(in subject: String) -> TicketNumber? {
        var rest = Substring(subject)
        while let open = rest.firstIndex(of: "[") {
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "]"), let number = try? TicketNumber(parsing: String(after[..<close])) {
                return number
            }
            rest = after
        }
        return nil
    }

    public var description: String { Self.prefix + String(value) }
}
