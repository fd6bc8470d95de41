import Foundation
import Yams

/// Raw configuration values gathered from the file, the environment and command-line flags,
/// merged in that order of precedence (a flag beats the environment, which beats the file).
///
/// Values stay strings (lists as arrays) until ``NodeConfiguration`` parses them, so every
/// parse error can name the key and the place the value came from.
public struct ConfigSources: Sendable {
    /// A raw value and where it came from.
    public struct Value: Sendable, Equatable {
        public var items: [String]
        public var source: String
        public var scalar: String { items.joined(separator: ",") }
    }

    public private(set) var values: [String: Value] = [:]
    let known: [String: ConfigKey]

    public init(keys: [ConfigKey] = ConfigKey.all) {
        self.known = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
    }

    /// Reads a YAML file of nested maps (`http: {port: 8080}`); unknown keys are errors.
    public mutating func loadFile(at path: String) throws(ConfigError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(key: "config", message: "cannot read configuration file \(path): \(error.localizedDescription)")
        }
        try loadYAML(text, source: "config file \(path)")
    }

    /// Reads YAML text (see ``loadFile(at:)``).
    public mutating func loadYAML(_ text: String, source: String) throws(ConfigError) {
        let node: Yams.Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigError(key: "config", message: "configuration file is not valid YAML: \(error)", source: source)
        }
        guard let node else { return }
        guard let mapping = node.mapping else {
            throw ConfigError(key: "config", message: "configuration file must be a map of sections (http:, database:, ...)", source: source)
        }
        try flatten(mapping, prefix: "", source: source)
    }

    private mutating func flatten(_ mapping: Yams.Node.Mapping, prefix: String, source: String) throws(ConfigError) {
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.string else {
                throw ConfigError(key: prefix.isEmpty ? "config" : prefix, message: "keys must be strings", source: source)
            }
            let full = prefix.isEmpty ? name : "\(prefix).\(name)"
            if let key = known[full], key.isStructured {
                do {
                    values[full] = Value(items: [try Yams.serialize(node: valueNode)], source: source)
                } catch {
                    throw ConfigError(key: full, message: "cannot read this YAML value: \(error)", source: source)
                }
                continue
            }
            switch valueNode {
            case .mapping(let nested):
                try flatten(nested, prefix: full, source: source)
            case .sequence(let sequence):
                guard let key = known[full] else { throw unknownKey(full, source: source) }
                guard key.isList else { throw ConfigError(key: full, message: "expected a single value, not a list", source: source) }
                var items: [String] = []
                for element in sequence {
                    guard let s = element.string else { throw ConfigError(key: full, message: "list items must be plain values", source: source) }
                    items.append(s)
                }
                values[full] = Value(items: items, source: source)
            case .scalar(let scalar):
                guard let key = known[full] else { throw unknownKey(full, source: source) }
                values[full] = Value(items: key.isList ? Self.splitList(scalar.string) : [scalar.string], source: source)
            default:
                throw ConfigError(key: full, message: "YAML aliases are not supported", source: source)
            }
        }
    }

    /// Reads `STEADFAST_*` variables for every known key.
    public mutating func loadEnvironment(_ environment: [String: String]) {
        for key in known.values {
            if let raw = environment[key.environmentVariable] {
                values[key.name] = Value(items: key.isList && !key.isStructured ? Self.splitList(raw) : [raw], source: key.environmentVariable)
            }
        }
    }

    /// Sets a key from a command-line flag.
    public mutating func set(_ name: String, to raw: String, source: String) throws(ConfigError) {
        guard let key = known[name] else { throw unknownKey(name, source: source) }
        values[name] = Value(items: key.isList && !key.isStructured ? Self.splitList(raw) : [raw], source: source)
    }

    /// Sets a list key from a repeatable command-line flag.
    public mutating func set(_ name: String, toList items: [String], source: String) throws(ConfigError) {
        guard known[name] != nil else { throw unknownKey(name, source: source) }
        values[name] = Value(items: items.flatMap(Self.splitList), source: source)
    }

    /// The raw value for a key, if any source set it.
    public func value(_ key: ConfigKey) -> Value? { values[key.name] }

    private func unknownKey(_ name: String, source: String) -> ConfigError {
        let suggestion = known.keys.min { a, b in a.editDistance(to: name) < b.editDistance(to: name) }
        let hint = suggestion.map { " (did you mean \($0)?)" } ?? ""
        return ConfigError(key: name, message: "unknown configuration key\(hint)", source: source)
    }

    static func splitList(_ raw: String) -> [String] {
        raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}

extension String {
    /// Levenshtein distance, for "did you mean" hints.
    func editDistance(to other: String) -> Int {
        let a = Array(self), b = Array(other)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
