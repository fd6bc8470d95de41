import Foundation
import NIOCore
import Yams
import SteadfastDomain

/// Reads typed values out of one YAML mapping, remembering the dotted path for error messages
/// and rejecting keys it was never asked about (so a typo never silently falls back to a default).
struct YAMLConfigReader {
    let path: String
    private let mapping: Node.Mapping
    private var consumed: Set<String> = []

    init(node: Node?, path: String) throws {
        guard let node else {
            self.path = path
            self.mapping = Node.Mapping([])
            return
        }
        guard let mapping = node.mapping else {
            throw ConfigurationError(key: path, problem: "expected a mapping of keys to values")
        }
        self.path = path
        self.mapping = mapping
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func node(_ key: String) -> Node? {
        consumed.insert(key)
        return mapping[key]
    }

    mutating func string(_ key: String) throws -> String? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else { throw ConfigurationError(key: keyPath(key), problem: "expected a string") }
        return scalar.string
    }

    mutating func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let node = node(key) else { return nil }
        guard let value = node.int else { throw ConfigurationError(key: keyPath(key), problem: "expected an integer") }
        guard range.contains(value) else {
            throw ConfigurationError(key: keyPath(key), problem: "must be between \(range.lowerBound) and \(range.upperBound), got \(value)")
        }
        return value
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let node = node(key) else { return nil }
        guard let value = node.bool else { throw ConfigurationError(key: keyPath(key), problem: "expected true or false") }
        return value
    }

    /// A duration such as `500ms`, `2s`, `1m`, `1.5s`, `1d`, or a plain number of seconds.
    mutating func duration(_ key: String, allowZero: Bool = false) throws -> TimeAmount? {
        guard let text = try string(key) else { return nil }
        guard let value = Self.parseDuration(text), value >= .zero, allowZero || value > .zero else {
            throw ConfigurationError(key: keyPath(key), problem: "expected a \(allowZero ? "" : "positive ")duration like 500ms, 2s or 1m, got '\(text)'")
        }
        return value
    }

    mutating func sequence(_ key: String) throws -> [Node]? {
        guard let node = node(key) else { return nil }
        guard let sequence = node.sequence else { throw ConfigurationError(key: keyPath(key), problem: "expected a list") }
        return Array(sequence)
    }

    /// Fails on the first key that no accessor asked for.
    func rejectUnknownKeys() throws {
        for key in mapping.keys {
            let name = key.string ?? "?"
            if !consumed.contains(name) {
                throw ConfigurationError(key: keyPath(name), problem: "unknown key")
            }
        }
    }

    /// The one duration grammar (``DurationText``), as NIO's `TimeAmount` (clamped to what it holds).
    static func parseDuration(_ text: String) -> TimeAmount? {
        DurationText.parse(text).map { TimeAmount($0) }
    }

    /// Splits `host:port` (IPv6 as `[::1]:port`).
    static func parseAddress(_ text: String, key: String) throws -> (host: String, port: Int) {
        let problem = ConfigurationError(key: key, problem: "expected host:port, got '\(text)'")
        guard let colon = text.lastIndex(of: ":") else { throw problem }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw problem
        }
        return (host, port)
    }
}
