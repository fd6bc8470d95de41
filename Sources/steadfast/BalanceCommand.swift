import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SteadfastBalancer
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `steadfast balance`: runs the Steadfast load balancer from a YAML configuration file.
/// Prints one line `listening proxy=HOST:PORT[,HOST:PORT...] admin=HOST:PORT` once every
/// listener is bound; SIGHUP reloads the file, SIGTERM/SIGINT stop gracefully (both through
/// ServiceLifecycle, as the node's signals are).
struct BalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "Run the load balancer.")

    @Option(name: .shortAndLong, help: "The balancer's YAML configuration file (see docs/balancer.md).")
    var config: String

    @Flag(help: "Only check the configuration file, then exit.")
    var checkConfig = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        let configuration: BalancerConfiguration
        do {
            configuration = try BalancerConfiguration.load(file: config)
        } catch let error as ConfigurationError {
            printError("steadfast balance: \(error)")
            throw ExitCode(2)
        }
        if checkConfig {
            print("configuration OK: \(configuration.servers.count) servers, \(configuration.listeners.count) listeners")
            return
        }
        var logger = Logger(label: "steadfast.balancer")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        do {
            try await ServiceGroup(configuration: .init(
                services: [BalancerService(configurationFile: config, configuration: configuration, logger: logger)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )).run()
        } catch let error as BalancerService.StartFailed {
            printError("steadfast balance: cannot start: \(error.underlying)")
            throw ExitCode(1)
        }
    }

    private func printError(_ message: String) {
        var stderr = StandardError()
        print(message, to: &stderr)
    }
}

private struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

/// The balancer as a ServiceLifecycle service: starts it, announces the bound addresses,
/// reloads the file on each SIGHUP, and shuts it down gracefully when the group's graceful
/// shutdown begins (SIGTERM/SIGINT).
struct BalancerService: Service {
    /// Binding or starting failed (exit status 1, documented in docs/balancer.md).
    struct StartFailed: Error {
        let underlying: any Error
    }

    let configurationFile: String
    let configuration: BalancerConfiguration
    let logger: Logger

    func run() async throws {
        // SIGHUP is trapped before anything is bound, so a reload sent as soon as the
        // "listening" line appears is never lost and never kills the process.
        let reloads = await UnixSignalsSequence(trapping: .sighup)
        let balancer: Balancer
        let bound: Balancer.BoundAddresses
        do {
            balancer = try await Balancer(configuration: configuration, logger: logger)
            do {
                bound = try await balancer.start()
            } catch {
                await balancer.shutdown()
                throw error
            }
        } catch {
            throw StartFailed(underlying: error)
        }
        let proxies = bound.listenerDescriptions.joined(separator: ",")
        // Written unbuffered: tests and scripts wait for this line on a pipe.
        FileHandle.standardOutput.write(Data("listening proxy=\(proxies) admin=\(bound.adminDescription ?? "-")\n".utf8))

        for await _ in reloads.cancelOnGracefulShutdown() {
            do {
                try balancer.reload(try BalancerConfiguration.load(file: configurationFile))
            } catch {
                logger.error("reload failed, keeping the running configuration", metadata: ["lb.error": "\(error)"])
            }
        }
        logger.notice("stopping gracefully")
        await balancer.shutdown()
    }
}
