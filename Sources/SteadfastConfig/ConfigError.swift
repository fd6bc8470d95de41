/// A configuration value that cannot be used, naming the key and where the value came from.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The dotted key, e.g. `http.port`.
    public let key: String
    /// What is wrong with it.
    public let message: String
    /// Where the bad value came from (`config file`, `STEADFAST_HTTP_PORT`, `--port`...), if known.
    public let source: String?

    public init(key: String, message: String, source: String? = nil) {
        self.key = key
        self.message = message
        self.source = source
    }

    public var description: String {
        "configuration error: \(key): \(message)" + (source.map { " (from \($0))" } ?? "")
    }
}
