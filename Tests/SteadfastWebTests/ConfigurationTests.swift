import Foundation
import SteadfastConfig
import SteadfastTestSupport
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsAreASingleSQLiteNodeOnLoopback() throws {
        let configuration = try NodeConfiguration.defaults()
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.databaseURL == "sqlite://steadfast-data/steadfast.sqlite" || configuration.databaseURL == "sqlite://./steadfast-data/steadfast.sqlite")
        #expect(configuration.storageLocalPath.hasSuffix("steadfast-data/files"))
        #expect(configuration.drainDelay == .seconds(5))
        #expect(configuration.bcryptCost == 12)
        #expect(configuration.secureCookies == .auto)
        #expect(configuration.trustedProxies.isEmpty)
    }

    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        var sources = ConfigSources()
        try sources.loadYAML("""
            http:
              port: 9000
              host: 0.0.0.0
            session:
              idle_timeout: 15m
            http.trusted_proxies: [10.0.0.0/8]
            """, source: "test.yaml")
        sources.loadEnvironment(["STEADFAST_HTTP_PORT": "9100", "STEADFAST_SESSION_IDLE_TIMEOUT": "20m", "UNRELATED": "x"])
        try sources.set("http.port", to: "9200", source: "--port")
        let configuration = try NodeConfiguration(sources)
        #expect(configuration.port == 9200)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.sessionIdleTimeout == .seconds(1200))
        #expect(configuration.trustedProxies.map(\.description) == ["10.0.0.0/8"])
        #expect(sources.value(.httpPort)?.source == "--port")
    }

    @Test func errorsNameTheKeyAndWhereTheValueCameFrom() throws {
        var sources = ConfigSources()
        sources.loadEnvironment(["STEADFAST_HTTP_PORT": "eighty"])
        #expect(throws: ConfigError(key: "http.port", message: "expected a whole number from 0 to 65535, got 'eighty'", source: "STEADFAST_HTTP_PORT")) {
            try NodeConfiguration(sources)
        }
        var typo = ConfigSources()
        #expect {
            try typo.loadYAML("htp:\n  port: 80\n", source: "f.yaml")
        } throws: { error in
            (error as? ConfigError)?.key == "htp.port" && "\(error)".contains("did you mean http.port")
        }
        var bad = ConfigSources()
        try bad.set("session.idle_timeout", to: "soon", source: "--set")
        #expect { try NodeConfiguration(bad) } throws: { ($0 as? ConfigError)?.key == "session.idle_timeout" }
        var proxy = ConfigSources()
        try proxy.set("http.trusted_proxies", to: "10.0.0.0/33", source: "--trusted-proxy")
        #expect { try NodeConfiguration(proxy) } throws: { ($0 as? ConfigError)?.key == "http.trusted_proxies" && ($0 as? ConfigError)?.source == "--trusted-proxy" }
        var secret = ConfigSources()
        try secret.set("security.secret", to: "short", source: "--set")
        #expect { try NodeConfiguration(secret) } throws: { ($0 as? ConfigError)?.key == "security.secret" }
    }

    @Test func durationsAndSizes() throws {
        var sources = ConfigSources()
        try sources.set("node.drain_delay", to: "1500ms", source: "t")
        try sources.set("http.max_body_size", to: "2MiB", source: "t")
        try sources.set("node.shutdown_timeout", to: "2m", source: "t")
        // The jobs keys read the node's duration grammar, and a rate limit's window too.
        try sources.set("jobs.lease", to: "2m", source: "t")
        try sources.set("jobs.poll_interval", to: "1.5s", source: "t")
        try sources.set("security.rate_limit.login_per_ip", to: "5/90s", source: "t")
        let configuration = try NodeConfiguration(sources)
        #expect(configuration.drainDelay == .milliseconds(1500))
        #expect(configuration.shutdownTimeout == .seconds(120))
        #expect(configuration.jobsLease == .seconds(120))
        #expect(configuration.jobsPollInterval == .milliseconds(1500))
        #expect(configuration.rateLimitLoginPerIP?.window == .seconds(90))
        // A limit tells itself in the grammar it was configured in, so it reads back the same.
        #expect(configuration.rateLimitLoginPerIP?.description == "5/90s")
        #expect(configuration.rateLimitLoginPerAccount?.description == ConfigKey.rateLimitLoginPerAccount.defaultValue)
        #expect(configuration.maxBodySize == 2 << 20)
    }

    /// Sizes read in the one byte-size grammar (`ByteCount.parse`, the storage targets' too): every
    /// form either of its two former parsers took still works, and a bad size names its key.
    static let sizes: [(text: String, bytes: Int)] = [
        ("1048576", 1_048_576), ("+1048576", 1_048_576), ("512KiB", 524_288), ("512 kib", 524_288), ("2MiB", 2_097_152),
        ("2 M", 2_097_152), ("2m", 2_097_152), ("1 G", 1_073_741_824), ("1GiB", 1_073_741_824), ("1000kb", 1_000_000),
        ("3MB", 3_000_000), ("1 048 576", 1_048_576), (" 64 B ", 64), ("\t8 MiB", 8_388_608), ("1gb", 1_000_000_000),
    ]

    @Test(arguments: sizes)
    func sizesReadInTheOneByteSizeGrammar(text: String, bytes: Int) throws {
        var sources = ConfigSources()
        try sources.set("storage.max_upload_size", to: text, source: "t")
        #expect(try NodeConfiguration(sources).maxUploadSize == bytes)
    }

    @Test(arguments: ["lots", "1.5MiB", "-1MiB", "2 TiB", "MiB", "99999999999999999999"])
    func aBadSizeNamesItsKey(text: String) throws {
        var sources = ConfigSources()
        try sources.set("http.max_body_size", to: text, source: "--set")
        #expect(throws: ConfigError(
            key: "http.max_body_size", message: "expected a size like 512KiB, 1MiB or 1048576 (bytes), up to 1073741824 bytes, got '\(text)'", source: "--set"
        )) { try NodeConfiguration(sources) }
    }

    /// docs/configuration.md must list every key with its default and its environment variable.
    @Test func everyKeyIsDocumentedWithItsDefault() throws {
        let docs = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        for key in ConfigKey.all {
            let row = docs.split(separator: "\n").first { $0.hasPrefix("| `\(key.name)` |") }
            #expect(row != nil, "docs/configuration.md does not document \(key.name)")
            if let row {
                #expect(row.contains(key.environmentVariable), "\(key.name): environment variable missing")
                let shownDefault = key.defaultValue.isEmpty ? "—" : "`\(key.defaultValue)`"
                #expect(row.contains(shownDefault), "\(key.name): default \(shownDefault) missing")
            }
        }
    }
}

@Suite struct IPNetworkTests {
    @Test func containsAddressesInTheBlock() throws {
        let v4 = try IPNetwork("10.1.0.0/16")
        #expect(v4.contains("10.1.200.3"))
        #expect(!v4.contains("10.2.0.1"))
        #expect(v4.contains("::ffff:10.1.0.9"))
        let single = try IPNetwork("127.0.0.1")
        #expect(single.prefixLength == 32 && single.contains("127.0.0.1") && !single.contains("127.0.0.2"))
        let v6 = try IPNetwork("2001:db8::/32")
        #expect(v6.contains("2001:db8:1::5") && !v6.contains("2001:db9::1") && !v6.contains("10.0.0.1"))
        #expect(try IPNetwork("0.0.0.0/0").contains("203.0.113.9"))
        #expect(throws: ConfigError.self) { try IPNetwork("not-an-ip") }
        #expect(throws: ConfigError.self) { try IPNetwork("::1/129") }
    }
}
