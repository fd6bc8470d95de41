import Crypto
import Logging
import NIOCore
import Synchronization

/// Moves every file of one type to another storage target — the engine behind
/// `steadfast storage migrate --type T --to TARGET`.
///
/// For each file of the type in the catalogue:
/// 1. already marked verified on the target → skipped (so a re-run never copies it again);
/// 2. present on the target with the right size (an interrupted run wrote it but did not
///    record it) → read back and checked against the catalogue's SHA-256, then recorded;
/// 3. otherwise streamed from a target holding a verified copy, the SHA-256 computed on the
///    way in compared with the catalogue's, optionally read back and checked again, then
///    recorded with ``FileCatalog/markVerified(fileID:on:)``. A copy that does not match is
///    deleted from the target and reported.
///
/// Files uploaded while the migration runs are found by re-scanning and copied in further
/// passes. When a pass finds nothing left to copy, and no copy failed, the type is switched, in the catalogue (other nodes follow via
/// ``StorageRegistry/refreshRoutes(from:)``) and in this node's registry. Uploads keep coming
/// while nodes learn of the switch, so a busy type could otherwise never be switched: after
/// ``MigrationOptions/passesBeforeSwitch`` passes the switch is made anyway, and files that
/// land on the old target afterwards (uploads in flight, nodes that have not refreshed their
/// routes) are copied until ``MigrationOptions/settleTime`` has passed and a pass finds
/// nothing; any still missing then are counted in ``MigrationReport/leftOnOldTarget``, and
/// stay readable where they are. The old copies stay where they were. Interrupting
/// (cancelling the task, killing the process) is safe at any point: writes are atomic, and a
/// re-run resumes.
public struct StorageMigrator: Sendable {
    /// The node's targets.
    public let registry: StorageRegistry
    /// The file records.
    public let catalog: any FileCatalog
    /// How to work.
    public var options: MigrationOptions
    private let logger: Logger

    /// Creates a migrator.
    public init(registry: StorageRegistry, catalog: any FileCatalog, options: MigrationOptions = MigrationOptions(), logger: Logger = Logger(label: "steadfast.storage.migrate")) {
        self.registry = registry
        self.catalog = catalog
        self.options = options
        self.logger = logger
    }

    /// Migrates every file of `type` to target `target`, reporting progress as it goes.
    /// Returns what happened; the type is switched only if ``MigrationReport/isComplete``.
    /// Throws only when the migration cannot run at all (unknown target, catalogue down,
    /// cancellation); per-file problems are in the report.
    public func migrate(
        type: FileType,
        to target: String,
        progress: @escaping @Sendable (MigrationProgress) -> Void = { _ in }
    ) async throws -> MigrationReport {
        let destination = try registry.storage(for: type, on: target)
        var report = MigrationReport(type: type, target: target)

        // Count first, so the progress bar knows the totals.
        var counted = Set<String>()
        var bytesTotal: Int64 = 0
        var alreadyThere: [Int64] = []
        try await forEachPage(of: type, missingFrom: nil) { page in
            for file in page {
                counted.insert(file.id)
                bytesTotal += file.size
                if file.locations.contains(target) { alreadyThere.append(file.size) }
            }
        }
        report.filesTotal = counted.count
        report.alreadyVerified = alreadyThere.count
        let tracker = MigrationProgressTracker(filesTotal: counted.count, bytesTotal: bytesTotal, options: options, report: progress)
        for size in alreadyThere { tracker.fileFinished(uncountedBytes: size, failed: false) }

        // Copy what the target lacks, then what was uploaded meanwhile, for a few passes. A file
        // tried once is then either recorded on the target (so no longer listed) or a failure
        // (which ends the run), so no pass copies a file twice.
        for _ in 0..<options.passesBeforeSwitch {
            let copied = try await copyMissing(type: type, to: destination, counted: &counted, report: &report, tracker: tracker)
            if copied == 0 || !report.failures.isEmpty { break }
        }

        if report.failures.isEmpty {
            // Every file the catalogue held before the last pass is verified on the target.
            // Files still arriving (uploads in flight, nodes that keep writing to the old target
            // until they refresh their routes) are copied after the switch.
            try await catalog.switchTarget(of: type, to: target)
            try registry.switchTarget(of: type, to: target)
            report.switched = true
            let sinceSwitch = stopwatch(on: options.clock)
            var passesAfterSettling = 0
            while report.failures.isEmpty && passesAfterSettling < options.passesBeforeSwitch {
                let copied = try await copyMissing(type: type, to: destination, counted: &counted, report: &report, tracker: tracker)
                let waited = sinceSwitch()
                if waited >= options.settleTime {
                    passesAfterSettling += 1
                    if copied == 0 { break }
                } else if copied == 0 {
                    try await options.clock.sleep(for: min(.milliseconds(250), options.settleTime - waited))
                }
            }
            var left = 0
            try await forEachPage(of: type, missingFrom: target) { left += $0.count }
            report.leftOnOldTarget = left
        }
        report.failures.sort { $0.fileID < $1.fileID }
        progress(tracker.snapshot())
        logger.info("storage migration finished", metadata: [
            "steadfast.storage.type": "\(type.rawValue)", "steadfast.storage.target": "\(target)",
            "steadfast.storage.copied": "\(report.copied)", "steadfast.storage.failed": "\(report.failures.count)",
            "steadfast.storage.switched": "\(report.switched)", "steadfast.storage.left": "\(report.leftOnOldTarget)",
        ])
        return report
    }

    /// One pass: copies every file of the type the target lacks. Returns how many it tried;
    /// outcomes go into `report`.
    private func copyMissing(
        type: FileType, to destination: PrefixedFileStorage, counted: inout Set<String>,
        report: inout MigrationReport, tracker: MigrationProgressTracker
    ) async throws -> Int {
        var pending: [CatalogFile] = []
        try await forEachPage(of: type, missingFrom: destination.targetName) { pending += $0 }
        let newcomers = pending.filter { counted.insert($0.id).inserted }
        if !newcomers.isEmpty {
            report.filesTotal += newcomers.count
            tracker.discovered(files: newcomers.count, bytes: newcomers.reduce(0) { $0 + $1.size })
        }
        for outcome in try await copy(pending, to: destination, type: type, tracker: tracker) {
            switch outcome {
            case .copied(let bytes):
                report.copied += 1
                report.bytesCopied += bytes
            case .verifiedInPlace:
                report.verifiedInPlace += 1
            case .failed(let failure):
                report.failures.append(failure)
            }
        }
        return pending.count
    }

    private enum Outcome: Sendable {
        case copied(Int64)
        case verifiedInPlace
        case failed(MigrationReport.Failure)
    }

    /// Walks every file of the type (or only those missing from a target), a page at a time.
    private func forEachPage(of type: FileType, missingFrom target: String?, _ body: ([CatalogFile]) throws -> Void) async throws {
        var after: String?
        while true {
            let page = if let target {
                try await catalog.files(of: type, missingFrom: target, after: after, limit: options.pageSize)
            } else {
                try await catalog.files(of: type, after: after, limit: options.pageSize)
            }
            if page.isEmpty { return }
            try body(page)
            after = page.last!.id
            if page.count < options.pageSize { return }
        }
    }

    private func copy(_ files: [CatalogFile], to destination: PrefixedFileStorage, type: FileType, tracker: MigrationProgressTracker) async throws -> [Outcome] {
        try await withThrowingTaskGroup(of: Outcome.self) { group in
            var outcomes: [Outcome] = []
            var iterator = files.makeIterator()
            var running = 0
            while running < options.concurrency, let file = iterator.next() {
                group.addTask { try await self.migrate(file, to: destination, type: type, tracker: tracker) }
                running += 1
            }
            while let outcome = try await group.next() {
                outcomes.append(outcome)
                if let file = iterator.next() {
                    group.addTask { try await self.migrate(file, to: destination, type: type, tracker: tracker) }
                }
            }
            return outcomes
        }
    }

    /// Migrates one file; per-file problems become `.failed`, cancellation propagates.
    private func migrate(_ file: CatalogFile, to destination: PrefixedFileStorage, type: FileType, tracker: MigrationProgressTracker) async throws -> Outcome {
        func failed(_ reason: String) -> Outcome {
            .failed(MigrationReport.Failure(fileID: file.id, key: file.key, reason: reason))
        }
        do {
            // An interrupted run may have written the copy without recording it.
            if let existing = try await destination.metadata(key: file.key), existing.size == file.size {
                if try await sha256(of: destination, key: file.key) == file.sha256 {
                    try await catalog.markVerified(fileID: file.id, on: destination.targetName)
                    tracker.fileFinished(uncountedBytes: file.size, failed: false)
                    return .verifiedInPlace
                }
                logger.warning("a copy on the target does not match the catalogue; copying again", metadata: ["steadfast.storage.file.id": "\(file.id)"])
            }
            guard let sourceName = sourceTarget(of: file, type: type) else {
                tracker.fileFinished(uncountedBytes: file.size, failed: true)
                return failed("the catalogue records no verified copy of this file on any configured target")
            }
            let source = try registry.storage(for: type, on: sourceName)
            let read = try await source.read(key: file.key, range: nil)
            let counted = CountingBody(base: read.body, tracker: tracker)
            let stored: StoredObject
            do {
                stored = try await destination.write(key: file.key, body: counted, size: file.size, contentType: file.contentType)
            } catch {
                tracker.rolledBack(counted.count)
                throw error
            }
            var mismatch: String?
            if stored.sha256 != file.sha256 {
                mismatch = "the copy read from '\(sourceName)' has SHA-256 \(stored.sha256), not the recorded \(file.sha256): the source copy is damaged"
            } else if options.verifyByReadingBack, try await sha256(of: destination, key: file.key) != file.sha256 {
                mismatch = "the copy on '\(destination.targetName)' does not read back with the recorded SHA-256"
            }
            if let mismatch {
                try? await destination.delete(key: file.key)
                tracker.fileFinished(uncountedBytes: 0, failed: true)
                return failed(mismatch)
            }
            try await catalog.markVerified(fileID: file.id, on: destination.targetName)
            tracker.fileFinished(uncountedBytes: 0, failed: false)
            return .copied(file.size)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            if Task.isCancelled { throw CancellationError() }
            tracker.fileFinished(uncountedBytes: 0, failed: true)
            return failed("\(error)")
        }
    }

    /// The target to copy from: the type's current target if it holds a verified copy, else
    /// the first (by name) that does and is configured.
    private func sourceTarget(of file: CatalogFile, type: FileType) -> String? {
        let current = registry.route(for: type).target
        if file.locations.contains(current) { return current }
        return file.locations.sorted().first { registry.targets[$0] != nil }
    }

    private func sha256(of storage: PrefixedFileStorage, key: String) async throws -> String {
        var hasher = SHA256()
        for try await chunk in try await storage.read(key: key, range: nil).body {
            hasher.update(buffer: chunk)
        }
        return SHA256Hex.string(hasher.finalize())
    }
}

/// A body that tells the progress tracker about each chunk as the destination pulls it.
private struct CountingBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let base: StorageByteStream
    let tracker: MigrationProgressTracker
    let counter = ByteCounter()

    var count: Int64 { counter.value }

    func makeAsyncIterator() -> Iterator {
        Iterator(base: base.makeAsyncIterator(), tracker: tracker, counter: counter)
    }

    struct Iterator: AsyncIteratorProtocol {
        var base: StorageByteStream.AsyncIterator
        let tracker: MigrationProgressTracker
        let counter: ByteCounter

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            tracker.transferred(chunk.readableBytes)
            counter.add(Int64(chunk.readableBytes))
            return chunk
        }
    }
}

/// A byte count shared between a body and the code that started it.
private final class ByteCounter: Sendable {
    private let total = Mutex<Int64>(0)
    var value: Int64 { total.withLock { $0 } }
    func add(_ count: Int64) { total.withLock { $0 += count } }
}
