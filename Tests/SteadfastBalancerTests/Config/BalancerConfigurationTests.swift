import Foundation
import NIOCore
import Testing

@testable import SteadfastBalancer

@Suite("BalancerConfiguration")
struct BalancerConfigurationTests {
    static let minimal = """
        listeners:
          - address: 127.0.0.1:8080
        servers:
          - address: 127.0.0.1:9001
        """

    static func error(_ yaml: String) -> ConfigurationError? {
        do {
            _ = try BalancerConfiguration.load(yaml: yaml)
            return nil
        } catch let error as ConfigurationError {
            return error
        } catch {
            return ConfigurationError(key: "?", problem: "\(error)")
        }
    }

    @Test func aMinimalFileGetsEveryDefault() throws {
        let config = try BalancerConfiguration.load(yaml: Self.minimal)
        #expect(config.listeners == [.init(host: "127.0.0.1", port: 8080)])
        #expect(config.admin == nil)
        #expect(config.servers == [.init(name: "127.0.0.1:9001", host: "127.0.0.1", port: 9001, weight: 100, backup: false)])
        #expect(config.algorithm == .roundRobin)
        #expect(config.slowStart == .seconds(10))
        #expect(config.limits == BalancerConfiguration.Limits())
        #expect(config.health == BalancerConfiguration.HealthCheck())
        #expect(config.passive == BalancerConfiguration.PassiveHealth())
        #expect(config.retries == BalancerConfiguration.Retries())
        #expect(config.sticky == BalancerConfiguration.Sticky())
        #expect(config.limits.maxHeaderBytes == 16384)
        #expect(config.health.path == "/readyz")
    }

    @Test func theExampleConfigurationParses() throws {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/balancer.example.yaml")
        let config = try BalancerConfiguration.load(file: url.path)
        #expect(config.algorithm == .leastConnections)
        #expect(config.servers.map(\.name) == ["portal-1", "portal-2", "portal-standby"])
        #expect(config.servers[2].backup)
        #expect(config.admin?.port == 9090)
        #expect(config.slowStart == .seconds(20))
        #expect(config.health.fastInterval == .milliseconds(500))
    }

    @Test func durationsAcceptCommonUnits() {
        #expect(YAMLConfigReader.parseDuration("250ms") == .milliseconds(250))
        #expect(YAMLConfigReader.parseDuration("2s") == .seconds(2))
        #expect(YAMLConfigReader.parseDuration("1.5s") == .milliseconds(1500))
        #expect(YAMLConfigReader.parseDuration("2m") == .seconds(120))
        #expect(YAMLConfigReader.parseDuration("1h") == .seconds(3600))
        #expect(YAMLConfigReader.parseDuration("3") == .seconds(3))
        #expect(YAMLConfigReader.parseDuration("soon") == nil)
        #expect(YAMLConfigReader.parseDuration("1d") == .hours(24))
    }

    /// Numbers past what a duration holds are a configuration error naming the key; the old
    /// parser trapped (and took the balancer down on a reload) converting them to nanoseconds.
    @Test func hugeDurationsAreRefusedNotTrapped() {
        #expect(Self.error(Self.minimal + "\nhealth:\n  interval: 1e300s")?.key == "health.interval")
        #expect(Self.error(Self.minimal + "\nhealth:\n  interval: 99999999999999999999")?.key == "health.interval")
    }

    @Test func errorsNameTheKey() {
        #expect(Self.error(Self.minimal + "\nbalance: random")?.key == "balance")
        #expect(Self.error(Self.minimal + "\nhealth:\n  interval: often")?.key == "health.interval")
        #expect(Self.error(Self.minimal + "\nhealth:\n  intervall: 2s")?.key == "health.intervall")
        #expect(Self.error(Self.minimal + "\nlimits:\n  max_header_bytes: 10")?.key == "limits.max_header_bytes")
        #expect(Self.error(Self.minimal + "\nretries:\n  max_attempts: many")?.key == "retries.max_attempts")
        #expect(Self.error(Self.minimal + "\nsticky:\n  cookie: 'a b'")?.key == "sticky.cookie")
        #expect(Self.error(Self.minimal + "\nunknown_key: 1")?.key == "unknown_key")
        #expect(Self.error("listeners:\n  - address: nope\nservers:\n  - address: 127.0.0.1:1")?.key == "listeners[0].address")
        #expect(Self.error("listeners:\n  - address: 127.0.0.1:1\nservers: []")?.key == "servers")
        #expect(Self.error("servers:\n  - address: 127.0.0.1:1")?.key == "listeners")
        #expect(Self.error("listeners:\n  - address: 127.0.0.1:1\nservers:\n  - address: 127.0.0.1:0")?.key == "servers[0].address")
        #expect(Self.error("listeners:\n  - address: 127.0.0.1:1\nservers:\n  - address: 127.0.0.1:2\n    weight: 5000")?.key == "servers[0].weight")
        let duplicate = "listeners:\n  - address: 127.0.0.1:1\nservers:\n  - name: a\n    address: 127.0.0.1:2\n  - name: a\n    address: 127.0.0.1:3"
        #expect(Self.error(duplicate)?.key == "servers[1].name")
        #expect(Self.error("listeners:\n  - address: 127.0.0.1:1\n    tls:\n      certificate: c.pem\nservers:\n  - address: 127.0.0.1:2")?.key == "listeners[0].tls.private_key")
        #expect(Self.error("[unbalanced")?.key == "")
    }

    @Test func theErrorMessageSaysKeyAndProblem() {
        let error = Self.error(Self.minimal + "\nbalance: random")
        #expect(error?.description.contains("'balance'") == true)
        #expect(error?.description.contains("round_robin") == true)
    }
}
