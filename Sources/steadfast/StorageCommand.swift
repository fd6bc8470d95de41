import ArgumentParser
import Foundation
import Logging
import SteadfastConfig
import SteadfastJobs
import SteadfastPersistence
import SteadfastServices
import SteadfastStorage

/// `steadfast storage check|migrate`: operator tools for the shared file storage.
struct StorageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Check storage targets and move files between them.",
        subcommands: [Check.self, Migrate.self]
    )

    /// Builds the registry exactly as a node does (the same configuration, the cluster secret).
    static func withRegistry<T: Sendable>(
        _ configuration: NodeConfiguration, logger: Logger,
        _ body: (StorageRegistry, SQLFileCatalog) async throws -> T
    ) async throws -> T {
        try await withRegistry(configuration, logger: logger) { registry, catalog, _ in try await body(registry, catalog) }
    }

    /// ``withRegistry(_:logger:_:)`` that also hands `body` the database (for commands that
    /// write files and rows together, like `mail pipe`).
    static func withRegistry<T: Sendable>(
        _ configuration: NodeConfiguration, logger: Logger,
        _ body: (StorageRegistry, SQLFileCatalog, any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await OperatorDatabase.with(configuration, label: logger.label, schema: .upToDate) { database, logger in
            let secret = try await OperatorDatabase.secret(configuration, database: database)
            let client = S3FileStorage.makeHTTPClient()
            do {
                let registry = try StorageRegistry(configuration: configuration.storage, linkSecret: secret, httpClient: client, logger: logger)
                let catalog = SQLFileCatalog(database: database)
                try await registry.refreshRoutes(from: catalog)
                let result = try await body(registry, catalog, database)
                try await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    /// `steadfast storage check`: a write/read/verify/delete probe on every target.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write, read back, verify and delete a probe object on every storage target.",
            discussion: "Prints one line per target with its latency or the error; exits 1 if any target fails."
        )

        @OptionGroup var common: NodeOptions

        func run() async throws {
            let configuration = try common.loadConfiguration()
            let results = try await StorageCommand.withRegistry(configuration, logger: Logger(label: "steadfast.storage")) { registry, _ in
                await registry.probe()
            }
            for result in results { print(result.line) }
            if results.contains(where: { !$0.isHealthy }) { throw ExitCode(1) }
        }
    }

    /// `steadfast storage migrate --type T --to TARGET`.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every file of a type to another target, verify each copy, then switch the type to it.",
            discussion: """
                Safe to interrupt and re-run: it resumes and never copies a verified file twice. The \
                type switches only when every file is verified on the new target; old copies stay \
                where they were. Running nodes follow the switch within storage.route_refresh_interval; \
                files they upload to the old target until then are copied before the command ends.
                """
        )

        @OptionGroup var common: NodeOptions
        @Option(name: .long, help: "The file type: \(FileType.allCases.map(\.rawValue).joined(separator: ", ")).")
        var type: String
        @Option(name: .long, help: "The target to move the files to (a name from storage.targets, or local).")
        var to: String
        @Flag(name: .long, help: "Queue the migration for the running nodes' storage-migrations job instead of running it here; exactly one node does it and another resumes it if that node dies.")
        var background = false

        func run() async throws {
            guard let fileType = FileType(rawValue: type) else {
                throw ValidationError("--type: '\(type)' is not a file type (\(FileType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let configuration = try common.loadConfiguration()
            guard configuration.storage.targets.contains(where: { $0.name == to }) else {
                throw ValidationError("--to: no storage target is named '\(to)' (configured: \(configuration.storage.targets.map(\.name).joined(separator: ", ")))")
            }
            let target = to
            if background {
                try await queueInBackground(configuration, type: fileType, target: target)
                return
            }
            let interactive = isatty(STDERR_FILENO) == 1
            let report = try await StorageCommand.withRegistry(configuration, logger: Logger(label: "steadfast.storage")) { registry, catalog in
                let lastPrinted = ProgressThrottle()
                return try await StorageMigrator(registry: registry, catalog: catalog, options: MigrationOptions(settleTime: configuration.storageRouteSettleTime)).migrate(type: fileType, to: target) { progress in
                    // A redrawn bar on a terminal; a line per second in logs.
                    if interactive {
                        FileHandle.standardError.write(Data(("\r" + progress.rendered() + "\u{1B}[K").utf8))
                    } else if lastPrinted.due(every: .seconds(1)) || progress.filesDone == progress.filesTotal {
                        FileHandle.standardError.write(Data((progress.rendered() + "\n").utf8))
                    }
                }
            }
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            print("\(report.type.rawValue) → \(report.target): \(report.summary)")
            for failure in report.failures { print("  failed: \(failure.key) (\(failure.fileID)): \(failure.reason)") }
            if report.switched {
                print("switched: new \(report.type.rawValue) files now go to \(report.target); old copies were left in place")
                if report.leftOnOldTarget > 0 {
                    print("\(report.leftOnOldTarget) file(s) uploaded meanwhile are still only on the old target: re-run the command to copy them")
                    throw ExitCode(1)
                }
            } else {
                print("not switched: re-run the command to resume")
                throw ExitCode(1)
            }
        }

        /// Records the request and queues a manual run of the `storage-migrations` job.
        func queueInBackground(_ configuration: NodeConfiguration, type: FileType, target: String) async throws {
            let requester = "cli@\(ProcessInfo.processInfo.hostName)"
            let queued = try await OperatorDatabase.with(configuration, label: "steadfast.storage", schema: .upToDate) { database, _ in
                try await StorageMigrationQueue(database: database).request(type: type, to: target, by: requester)
                do {
                    return try await JobStore(database: database).requestRun(job: "storage-migrations", requestedBy: requester, now: Date())
                } catch let error as JobError where error.code == .unknownJob {
                    return ""  // no node has published the job yet
                }
            }
            print("queued: \(type.rawValue) → \(target)")
            if !queued.isEmpty {
                print("a running node starts it now (run \(queued)); follow it with: steadfast jobs history storage-migrations")
            } else {
                print("no node has run the scheduler on this database yet: the first node to start runs it within a minute")
            }
        }
    }
}
