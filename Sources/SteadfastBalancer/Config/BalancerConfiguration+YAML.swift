import Foundation
import NIOCore
import Yams

extension BalancerConfiguration {
    /// Reads a configuration file; errors name the offending key.
    public static func load(file path: String) throws -> BalancerConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(key: "", problem: "cannot read \(path): \(error.localizedDescription)")
        }
        return try load(yaml: text)
    }

    /// Parses YAML text; unknown keys and out-of-range values are errors that name the key.
    public static func load(yaml text: String) throws -> BalancerConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(key: "", problem: "not valid YAML: \(error)")
        }
        var reader = try YAMLConfigReader(node: root, path: "")

        guard let listenerNodes = try reader.sequence("listeners"), !listenerNodes.isEmpty else {
            throw ConfigurationError(key: "listeners", problem: "at least one listener is required")
        }
        let listeners = try listenerNodes.enumerated().map { index, node in
            try readListener(node, path: "listeners[\(index)]", allowTLS: true)
        }
        let admin = try reader.node("admin").map { try readAdmin($0) }

        guard let serverNodes = try reader.sequence("servers"), !serverNodes.isEmpty else {
            throw ConfigurationError(key: "servers", problem: "at least one server is required")
        }
        var names = Set<String>()
        let servers = try serverNodes.enumerated().map { index, node in
            let server = try readServer(node, path: "servers[\(index)]")
            guard names.insert(server.name).inserted else {
                throw ConfigurationError(key: "servers[\(index)].name", problem: "duplicate server name '\(server.name)'")
            }
            return server
        }

        var config = BalancerConfiguration(
            listeners: listeners,
            admin: admin?.listener,
            eventLoops: try reader.int("event_loops", in: 1...256) ?? System.coreCount,
            servers: servers
        )
        if let name = try reader.string("balance") {
            guard let algorithm = BalancingAlgorithm(rawValue: name) else {
                throw ConfigurationError(
                    key: "balance",
                    problem: "expected one of \(BalancingAlgorithm.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'"
                )
            }
            config.algorithm = algorithm
        }
        config.adminToken = admin?.token
        config.slowStart = try reader.duration("slow_start", allowZero: true) ?? config.slowStart
        config.shutdownGracePeriod = try reader.duration("shutdown_grace_period", allowZero: true) ?? config.shutdownGracePeriod

        var limits = try YAMLConfigReader(node: reader.node("limits"), path: "limits")
        config.limits.maxHeaderBytes = try limits.int("max_header_bytes", in: 1024...(1 << 20)) ?? config.limits.maxHeaderBytes
        config.limits.maxBodyBytes = try limits.int("max_body_bytes", in: 0...Int(Int32.max)) ?? config.limits.maxBodyBytes
        config.limits.clientHeaderTimeout = try limits.duration("client_header_timeout") ?? config.limits.clientHeaderTimeout
        config.limits.clientIdleTimeout = try limits.duration("client_idle_timeout") ?? config.limits.clientIdleTimeout
        config.limits.backendConnectTimeout = try limits.duration("backend_connect_timeout") ?? config.limits.backendConnectTimeout
        config.limits.backendTimeout = try limits.duration("backend_timeout") ?? config.limits.backendTimeout
        config.limits.backendIdleTimeout = try limits.duration("backend_idle_timeout") ?? config.limits.backendIdleTimeout
        config.limits.maxIdleConnectionsPerBackend =
            try limits.int("max_idle_connections_per_backend", in: 0...100_000) ?? config.limits.maxIdleConnectionsPerBackend
        try limits.rejectUnknownKeys()

        var health = try YAMLConfigReader(node: reader.node("health"), path: "health")
        if let path = try health.string("path") {
            guard path.hasPrefix("/") else { throw ConfigurationError(key: "health.path", problem: "must start with /") }
            config.health.path = path
        }
        config.health.expectedStatus = try health.int("expected_status", in: 100...599) ?? config.health.expectedStatus
        config.health.interval = try health.duration("interval") ?? config.health.interval
        config.health.fastInterval = try health.duration("fast_interval") ?? config.health.fastInterval
        config.health.timeout = try health.duration("timeout") ?? config.health.timeout
        config.health.fall = try health.int("fall", in: 1...100) ?? config.health.fall
        config.health.rise = try health.int("rise", in: 1...100) ?? config.health.rise
        try health.rejectUnknownKeys()

        var passive = try YAMLConfigReader(node: reader.node("passive"), path: "passive")
        config.passive.consecutiveFailures = try passive.int("consecutive_failures", in: 0...1000) ?? config.passive.consecutiveFailures
        config.passive.count5xx = try passive.bool("count_5xx") ?? config.passive.count5xx
        try passive.rejectUnknownKeys()

        var retries = try YAMLConfigReader(node: reader.node("retries"), path: "retries")
        config.retries.maxAttempts = try retries.int("max_attempts", in: 1...10) ?? config.retries.maxAttempts
        config.retries.budgetPercent = try retries.int("budget_percent", in: 0...100) ?? config.retries.budgetPercent
        config.retries.minPerSecond = try retries.int("min_per_second", in: 0...100_000) ?? config.retries.minPerSecond
        config.retries.replayBodyBytes = try retries.int("replay_body_bytes", in: 0...(16 << 20)) ?? config.retries.replayBodyBytes
        try retries.rejectUnknownKeys()

        var sticky = try YAMLConfigReader(node: reader.node("sticky"), path: "sticky")
        config.sticky.enabled = try sticky.bool("enabled") ?? config.sticky.enabled
        if let cookie = try sticky.string("cookie") {
            guard !cookie.isEmpty, cookie.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ConfigurationError(key: "sticky.cookie", problem: "must be a non-empty token of letters, digits, _ and -")
            }
            config.sticky.cookie = cookie
        }
        try sticky.rejectUnknownKeys()

        try reader.rejectUnknownKeys()
        return config
    }

    /// The default admin address: loopback only, so the API is never reachable from another host
    /// unless the file says so (and then it needs a token).
    public static let defaultAdminAddress = "127.0.0.1:9090"

    /// `admin`: `address` (`host:port`, or a bare `port` / `:port` on 127.0.0.1; default
    /// 127.0.0.1:9090) and at most one of `token` / `token_file`. A non-loopback address without
    /// a token is refused: the admin API can drain or stop every server.
    private static func readAdmin(_ node: Node) throws -> (listener: Listener, token: String?) {
        var reader = try YAMLConfigReader(node: node, path: "admin")
        let address = try reader.string("address") ?? defaultAdminAddress
        let (host, port): (String, Int)
        if let bare = Int(address.hasPrefix(":") ? String(address.dropFirst()) : address) {
            guard (0...65535).contains(bare) else {
                throw ConfigurationError(key: "admin.address", problem: "expected host:port or a port, got '\(address)'")
            }
            (host, port) = ("127.0.0.1", bare)
        } else {
            (host, port) = try YAMLConfigReader.parseAddress(address, key: "admin.address")
        }
        let inline = try reader.string("token")
        let file = try reader.string("token_file")
        try reader.rejectUnknownKeys()
        var token: String?
        switch (inline, file) {
        case (let inline?, nil):
            token = try validateToken(inline, key: "admin.token")
        case (nil, let file?):
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: "admin.token_file", problem: "cannot read \(file): \(error.localizedDescription)")
            }
            token = try validateToken(text.trimmingCharacters(in: .whitespacesAndNewlines), key: "admin.token_file")
        case (.some, .some):
            throw ConfigurationError(key: "admin.token_file", problem: "give admin.token or admin.token_file, not both")
        case (nil, nil):
            token = nil
        }
        if token == nil && !isLoopback(host) {
            throw ConfigurationError(
                key: "admin.token",
                problem: "required when admin.address is not a loopback address (got '\(host)'): set admin.token or admin.token_file"
            )
        }
        return (Listener(host: host, port: port), token)
    }

    /// A token of at least 16 visible ASCII characters (it travels in an `Authorization` header).
    private static func validateToken(_ token: String, key: String) throws -> String {
        guard token.utf8.count >= 16, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigurationError(key: key, problem: "the token must be at least 16 visible ASCII characters without spaces")
        }
        return token
    }

    /// 127.0.0.0/8, ::1 and localhost.
    static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { Int($0).map { (0...255).contains($0) } ?? false }
    }

    private static func readListener(_ node: Node, path: String, allowTLS: Bool) throws -> Listener {
        var reader = try YAMLConfigReader(node: node, path: path)
        guard let address = try reader.string("address") else {
            throw ConfigurationError(key: "\(path).address", problem: "required")
        }
        let (host, port) = try YAMLConfigReader.parseAddress(address, key: "\(path).address")
        var tls: TLS?
        if allowTLS, let tlsNode = reader.node("tls") {
            var tlsReader = try YAMLConfigReader(node: tlsNode, path: "\(path).tls")
            guard let certificate = try tlsReader.string("certificate") else {
                throw ConfigurationError(key: "\(path).tls.certificate", problem: "required")
            }
            guard let key = try tlsReader.string("private_key") else {
                throw ConfigurationError(key: "\(path).tls.private_key", problem: "required")
            }
            try tlsReader.rejectUnknownKeys()
            tls = TLS(certificatePath: certificate, privateKeyPath: key)
        }
        try reader.rejectUnknownKeys()
        return Listener(host: host, port: port, tls: tls)
    }

    private static func readServer(_ node: Node, path: String) throws -> Server {
        var reader = try YAMLConfigReader(node: node, path: path)
        guard let address = try reader.string("address") else {
            throw ConfigurationError(key: "\(path).address", problem: "required")
        }
        let (host, port) = try YAMLConfigReader.parseAddress(address, key: "\(path).address")
        guard port != 0 else { throw ConfigurationError(key: "\(path).address", problem: "port 0 is not a server port") }
        let name = try reader.string("name") ?? address
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "," && $0 != "\"" }) else {
            throw ConfigurationError(key: "\(path).name", problem: "must be non-empty ASCII without spaces, ';', ',' or '\"'")
        }
        let server = Server(
            name: name,
            host: host,
            port: port,
            weight: try reader.int("weight", in: 0...1000) ?? 100,
            backup: try reader.bool("backup") ?? false
        )
        try reader.rejectUnknownKeys()
        return server
    }
}
