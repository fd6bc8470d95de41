import ArgumentParser
import Foundation
import Logging
import SteadfastConcurrency
import SteadfastConfig
import SteadfastDomain
import SteadfastJobs
import SteadfastPersistence

/// `steadfast jobs ...`: the cluster's scheduled jobs, from the database every node shares.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Scheduled jobs: what runs when, where it ran, and running one now.",
        discussion: "Reads the same configuration as serve (--config, STEADFAST_*, flags) to find the database.",
        subcommands: [List.self, History.self, Run.self]
    )

    /// `steadfast jobs list`.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each job's schedule, last run (node, duration, outcome) and next run.")

        @OptionGroup var common: NodeOptions

        func run() async throws {
            let configuration = try common.loadConfiguration()
            try await JobsCommand.withDatabase(configuration) { database in
                let jobs = try await JobStore(database: database).jobs(now: Date())
                guard !jobs.isEmpty else {
                    print("No jobs yet: no node has started its scheduler on this database.")
                    return
                }
                var rows = [["JOB", "SCHEDULE", "CATCH-UP", "LAST RUN", "NODE", "DURATION", "OUTCOME", "NEXT RUN"]]
                for job in jobs {
                    let last = job.lastRun
                    rows.append([
                        job.name, job.schedule, job.catchUp, last.map { JobsCommand.slot($0) } ?? "never", last?.holder ?? "-",
                        JobsCommand.duration(last?.duration), last.map { JobsCommand.outcome($0) } ?? "-", JobsCommand.time(job.nextSlotAt),
                    ])
                }
                print(JobsCommand.table(rows))
            }
        }
    }

    /// `steadfast jobs history [NAME]`.
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent runs, newest first: slot, node, fencing token, duration, outcome.")

        @Argument(help: "Only this job's runs.") var name: String?
        @Option(help: "How many runs to show.") var limit: Int = 20
        @OptionGroup var common: NodeOptions

        func run() async throws {
            let configuration = try common.loadConfiguration()
            try await JobsCommand.withDatabase(configuration) { database in
                let runs = try await JobStore(database: database).history(job: name, limit: max(1, limit))
                guard !runs.isEmpty else {
                    print(name.map { "No runs of \($0) yet." } ?? "No runs yet.")
                    return
                }
                var rows = [["JOB", "SLOT", "KIND", "NODE", "TOKEN", "STARTED", "DURATION", "OUTCOME", "ERROR"]]
                for run in runs {
                    rows.append([
                        run.job, JobsCommand.slot(run), run.kind.rawValue, run.holder ?? "-", String(run.fencingToken), JobsCommand.time(run.startedAt),
                        JobsCommand.duration(run.duration), JobsCommand.outcome(run), run.error ?? "",
                    ])
                }
                print(JobsCommand.table(rows))
            }
        }
    }

    /// `steadfast jobs run NAME`.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a job now, exactly once: queues a manual run that one node claims like any slot.",
            discussion: "Waits for the outcome (exit 0 when it succeeded, 1 when it failed) unless --no-wait."
        )

        @Argument(help: "The job's name (see jobs list).") var name: String
        @Flag(name: .customLong("no-wait"), help: "Queue the run and return at once.") var noWait = false
        @Option(help: "Longest wait for the outcome, e.g. 5m.") var timeout: String = "5m"
        @OptionGroup var common: NodeOptions

        func run() async throws {
            let configuration = try common.loadConfiguration()
            guard let limit = DurationText.parse(timeout, bareNumberIsSeconds: false), limit > .zero else { throw ValidationError("--timeout: expected a duration like 30s or 5m") }
            let succeeded = try await JobsCommand.withDatabase(configuration) { database -> Bool in
                let store = JobStore(database: database)
                let key: String
                do {
                    key = try await store.requestRun(job: name, requestedBy: "cli@\(ProcessInfo.processInfo.hostName)", now: Date())
                } catch let error as JobError where error.code == .unknownJob {
                    let known = (try? await store.jobs(now: Date()).map(\.name)) ?? []
                    FileHandle.standardError.write(Data("steadfast: \(error); known jobs: \(known.joined(separator: ", "))\n".utf8))
                    throw ExitCode(2)
                }
                print("queued \(name) \(key)")
                if noWait { return true }
                var announced = false
                var succeeded: Bool?
                _ = await poll(every: .milliseconds(200), within: limit) {
                    guard let run = try? await store.run(job: name, slotKey: key) else { return false }
                    if run.state == "running", !announced {
                        print("running on \(run.holder ?? "?") (fencing token \(run.fencingToken))")
                        announced = true
                    }
                    guard run.isFinished else { return false }
                    print("\(run.state) on \(run.holder ?? "?") in \(JobsCommand.duration(run.duration))\(run.error.map { ": \($0)" } ?? "")")
                    succeeded = run.state == "succeeded"
                    return true
                }
                if let succeeded { return succeeded }
                try Task.checkCancellation()
                print("not finished within \(timeout); it stays queued or running (see: steadfast jobs history \(name))")
                return false
            }
            if !succeeded { throw ExitCode(1) }
        }
    }

    /// Opens the configured database (PostgreSQL pools run for the command's duration); fails
    /// plainly when it is missing, unreachable or has no Steadfast schema (``OperatorDatabase``).
    static func withDatabase<T: Sendable>(_ configuration: NodeConfiguration, _ body: (any SQLDatabase) async throws -> T) async throws -> T {
        var options = OperatorDatabase.Options()
        options.maximumConnections = 2
        options.requestTimeout = configuration.databaseTimeout
        options.logLevel = .error
        return try await OperatorDatabase.with(configuration, label: "steadfast.jobs", schema: .asIs, options: options) { database, _ in
            try await body(database)
        }
    }

    static func time(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }

    static func slot(_ run: JobRunRecord) -> String {
        run.kind == .manual ? "manual \(time(run.slotAt))" : time(run.slotAt)
    }

    static func outcome(_ run: JobRunRecord) -> String {
        run.takeovers > 0 || run.fencingToken > 1 ? "\(run.state) (token \(run.fencingToken))" : run.state
    }

    static func duration(_ duration: Duration?) -> String {
        duration.map(DurationText.formatMeasured) ?? "-"
    }

    static func table(_ rows: [[String]]) -> String {
        let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
