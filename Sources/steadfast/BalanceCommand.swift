import ArgumentParser
import Dispatch
import Foundation
import Logging
import SteadfastBalancer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `steadfast balance`: runs the Steadfast load balancer from a YAML configuration file.
/// Prints one line `listening proxy=HOST:PORT[,HOST:PORT...] admin=HOST:PORT` once every
/// listener is bound; SIGHUP reloads the file, SIGTERM/SIGINT stop gracefully.
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

        // Signals are taken before the balancer starts so none is lost or kills the process.
        let signals = Self.signalStream([SIGHUP, SIGTERM, SIGINT])
        let balancer = try Balancer(configuration: configuration, logger: logger)
        let bound: Balancer.BoundAddresses
        do {
            bound = try await balancer.start()
        } catch {
            printError("steadfast balance: cannot start: \(error)")
            await balancer.shutdown()
            throw ExitCode(1)
        }
        let proxies = bound.listenerDescriptions.joined(separator: ",")
        // Written unbuffered: tests and scripts wait for this line on a pipe.
        FileHandle.standardOutput.write(Data("listening proxy=\(proxies) admin=\(bound.adminDescription ?? "-")\n".utf8))

        for await signal in signals {
            if signal == SIGHUP {
                do {
                    try balancer.reload(try BalancerConfiguration.load(file: config))
                } catch {
                    logger.error("reload failed, keeping the running configuration", metadata: ["lb.error": "\(error)"])
                }
            } else {
                logger.notice("stopping gracefully")
                await balancer.shutdown()
                return
            }
        }
    }

    private func printError(_ message: String) {
        var stderr = StandardError()
        print(message, to: &stderr)
    }

    /// Delivers the given signals as an async sequence (they no longer kill the process).
    private static func signalStream(_ numbers: [Int32]) -> AsyncStream<Int32> {
        let queue = DispatchQueue(label: "steadfast.balancer.signals")
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        var sources: [any DispatchSourceSignal] = []
        for number in numbers {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            sources.append(source)
        }
        let retained = SignalSources(sources)
        continuation.onTermination = { _ in retained.cancel() }
        return stream
    }
}

/// Keeps dispatch signal sources alive for as long as the signal stream exists.
private final class SignalSources: Sendable {
    // Dispatch sources are thread-safe; they are only cancelled once, from `onTermination`.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]
    init(_ sources: [any DispatchSourceSignal]) { self.sources = sources }
    func cancel() { sources.forEach { $0.cancel() } }
}

private struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
