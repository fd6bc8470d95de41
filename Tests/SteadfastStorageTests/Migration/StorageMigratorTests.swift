import Foundation
import SteadfastStorage
import SteadfastTestSupport
import Synchronization
import Testing

/// The migration engine over an in-memory catalogue and two local targets.
@Suite struct StorageMigratorTests {
    /// Runs `body` with targets "nas-a" (holding the files) and "nas-b" (counting writes).
    func withWorld(_ body: (MigrationWorld, CountingStorage, String) async throws -> Void) async throws {
        try await withTemporaryDirectory { a in
            try await withTemporaryDirectory { b in
                let destination = CountingStorage(try LocalFileStorage(root: b))
                let world = try await MigrationWorld.make(targets: ["nas-a": try LocalFileStorage(root: a), "nas-b": destination], source: "nas-a")
                try await body(world, destination, a)
            }
        }
    }

    @Test func copiesVerifiesSwitchesAndLeavesTheOldCopies() async throws {
        try await withWorld { world, destination, _ in
            let log = ProgressLog()
            let report = try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "nas-b") { log.record($0) }
            #expect(report.isComplete && report.copied == 12 && report.failures.isEmpty)
            #expect(destination.writes == 12)
            #expect(try await world.expectAll(on: "nas-b"))
            #expect(try await world.expectAll(on: "nas-a"))  // old copies left in place
            #expect(await world.catalog.allFiles().allSatisfy { $0.locations == ["nas-a", "nas-b"] })
            #expect(await world.catalog.currentTarget(of: MigrationWorld.type) == "nas-b")
            #expect(world.registry.storage(for: MigrationWorld.type).targetName == "nas-b")
            #expect(world.registry.storage(for: .downloads).targetName == "nas-a")
            let last = try #require(log.all.last)
            let total = world.contents.values.reduce(0) { $0 + Int64($1.count) }
            #expect(last.filesDone == 12 && last.filesTotal == 12 && last.bytesDone == total && last.bytesTotal == total)
            #expect(report.bytesCopied == total)

            // Running again has nothing to do.
            let again = try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(again.isComplete && again.copied == 0 && again.alreadyVerified == 12)
            #expect(destination.writes == 12)
        }
    }

    @Test func resumesAfterTheTargetFailsAndNeverCopiesTwice() async throws {
        try await withWorld { world, destination, _ in
            destination.failAfter(5)
            let first = try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            // Two copies run at once, so one more may slip through before the target fails.
            #expect(!first.switched && (5...6).contains(first.copied) && first.copied + first.failures.count == 12)
            #expect(first.failures.allSatisfy { $0.reason.contains("the test target is down") })
            #expect(await world.catalog.currentTarget(of: MigrationWorld.type) == nil)
            #expect(world.registry.storage(for: MigrationWorld.type).targetName == "nas-a")

            destination.failAfter(nil)
            let second = try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(second.isComplete && second.alreadyVerified == first.copied && second.copied == 12 - first.copied)
            #expect(destination.writes == 12)
            #expect(try await world.expectAll(on: "nas-b"))
        }
    }

    @Test func isSafeToCancelAndResume() async throws {
        try await withWorld { world, destination, _ in
            let migrator = StorageMigrator(registry: world.registry, catalog: world.catalog, options: MigrationOptions(concurrency: 2))
            let canceller = Canceller()
            let task = Task<MigrationReport, any Error> {
                try await migrator.migrate(type: MigrationWorld.type, to: "nas-b") { progress in
                    if progress.filesDone >= 4 { canceller.cancel() }
                }
            }
            canceller.set(task)
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(await world.catalog.currentTarget(of: MigrationWorld.type) == nil)
            let writesBefore = destination.writes
            #expect(writesBefore < 12)
            let resumed = try await migrator.migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(resumed.isComplete)
            #expect(destination.writes == 12, "a file was copied twice")
            #expect(try await world.expectAll(on: "nas-b"))
        }
    }

    /// The process died after writing a copy and before recording it: the re-run verifies
    /// the copy by reading it back instead of copying it again.
    @Test func aCopyWrittenButNotRecordedIsVerifiedInPlace() async throws {
        try await withWorld { world, destination, _ in
            let catalog = ScriptedCatalog(base: world.catalog, failOnce: ["f03", "f07"])
            let first = try await StorageMigrator(registry: world.registry, catalog: catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(!first.switched && first.failures.map(\.fileID) == ["f03", "f07"])
            #expect(destination.writes == 12)
            let second = try await StorageMigrator(registry: world.registry, catalog: catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(second.isComplete && second.verifiedInPlace == 2 && second.copied == 0)
            #expect(destination.writes == 12)
        }
    }

    @Test func aDamagedSourceCopyIsCaughtAndTheTypeIsNotSwitched() async throws {
        try await withWorld { world, destination, sourceRoot in
            let damaged = try #require(await world.catalog.file(id: "f05"))
            let path = sourceRoot + "/" + MigrationWorld.type.defaultPrefix + damaged.key
            var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0xFF
            try Data(bytes).write(to: URL(fileURLWithPath: path))

            let report = try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(!report.switched && report.copied == 11)
            #expect(report.failures.map(\.fileID) == ["f05"])
            #expect(report.failures.first?.reason.contains("the source copy is damaged") == true)
            #expect(try await world.registry.storage(for: MigrationWorld.type, on: "nas-b").metadata(key: damaged.key) == nil)
            #expect(await world.catalog.file(id: "f05")?.locations == ["nas-a"])
            #expect(await world.catalog.currentTarget(of: MigrationWorld.type) == nil)
        }
    }

    /// A file uploaded to the old target while the migration runs is found by the final
    /// re-scan and copied before the switch.
    @Test func filesAddedDuringTheMigrationAreCopiedBeforeTheSwitch() async throws {
        try await withWorld { world, destination, _ in
            let registry = world.registry
            let base = world.catalog
            let catalog = ScriptedCatalog(base: base) { listing in
                guard listing == 2 else { return }  // after the first copy pass has listed
                let bytes = TestData.bytes(count: 5_000, seed: 999)
                let stored = try await registry.storage(for: MigrationWorld.type).write(key: "late/upload.bin", body: StorageByteStream.bytes(bytes), size: 5_000, contentType: "x/y")
                await base.add(CatalogFile(id: "f99", type: MigrationWorld.type, key: "late/upload.bin", size: 5_000, sha256: stored.sha256, contentType: "x/y", locations: ["nas-a"]))
            }
            let report = try await StorageMigrator(registry: world.registry, catalog: catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(report.isComplete && report.copied == 13)
            #expect(destination.writes == 13)
            #expect(await base.file(id: "f99")?.locations.contains("nas-b") == true)
        }
    }

    /// Uploads that never stop (one after every listing, written to the old target as a node
    /// that has not seen the switch would) cannot hold the switch back: it happens after the
    /// allowed passes, and what keeps arriving during the settle time is copied after it.
    @Test func aBusyTypeIsSwitchedAndLateUploadsAreCopiedWhileNodesSettle() async throws {
        try await withWorld { world, destination, _ in
            let uploads = LateUploads(world: world)
            let catalog = ScriptedCatalog(base: world.catalog) { listing in
                if listing <= 12 { try await uploads.add() }
            }
            // On a virtual clock the settle time passes only in the migrator's own waits, so the
            // twelve late uploads (one per listing) all arrive inside it however slow the machine.
            let clock = VirtualClock()
            let options = MigrationOptions(passesBeforeSwitch: 3, settleTime: .milliseconds(1500), clock: clock)
            let report = try await StorageMigrator(registry: world.registry, catalog: catalog, options: options).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(report.switched && report.isComplete && report.leftOnOldTarget == 0)
            #expect(report.copied == 12 + uploads.count && report.filesTotal == 12 + uploads.count)
            #expect(uploads.count == 12 && destination.writes == 24)
            #expect(await world.catalog.allFiles().allSatisfy { $0.locations.contains("nas-b") })
            #expect(await world.catalog.currentTarget(of: MigrationWorld.type) == "nas-b")
            #expect(clock.sleeps >= 1 && clock.now.offset >= .milliseconds(1500), "the migrator waited out the settle time")
        }
    }

    /// A node that goes on writing to the old target past the settle time leaves files behind:
    /// the type is switched, the report counts them, and a re-run copies them.
    @Test func uploadsPastTheSettleTimeAreCountedAndARerunCopiesThem() async throws {
        try await withWorld { world, _, _ in
            let uploads = LateUploads(world: world)
            let busy = ScriptedCatalog(base: world.catalog) { _ in try await uploads.add() }
            let first = try await StorageMigrator(registry: world.registry, catalog: busy, options: MigrationOptions(passesBeforeSwitch: 2)).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(first.switched && first.failures.isEmpty && !first.isComplete)
            // (The upload after the final count is not in it.)
            #expect(first.leftOnOldTarget == 1 && first.copied + first.leftOnOldTarget + 1 == 12 + uploads.count, "\(first.summary)")
            let second = try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "nas-b")
            #expect(second.isComplete && second.copied == 12 + uploads.count - first.copied && second.alreadyVerified == first.copied)
        }
    }

    @Test func anUnknownTargetIsRefusedUpFront() async throws {
        try await withWorld { world, _, _ in
            let error = await #expect(throws: StorageError.self) {
                try await StorageMigrator(registry: world.registry, catalog: world.catalog).migrate(type: MigrationWorld.type, to: "tape")
            }
            #expect(error?.kind == .unknownTarget)
        }
    }
}

/// Files uploaded to the source target "nas-a" while a migration runs, as a node that has not
/// seen the switch writes them.
final class LateUploads: Sendable {
    let world: MigrationWorld
    private let added = Mutex(0)

    init(world: MigrationWorld) { self.world = world }

    /// How many were uploaded.
    var count: Int { added.withLock { $0 } }

    /// Uploads one more small file to "nas-a" and records it there.
    func add() async throws {
        let index = added.withLock { $0 += 1; return $0 }
        let bytes = TestData.bytes(count: 100 + index, seed: UInt64(5_000 + index))
        let key = "late/\(index).bin"
        let stored = try await world.registry.storage(for: MigrationWorld.type, on: "nas-a").write(key: key, body: StorageByteStream.bytes(bytes), size: Int64(bytes.count), contentType: "x/y")
        await world.catalog.add(CatalogFile(id: "late\(index)", type: MigrationWorld.type, key: key, size: stored.size, sha256: stored.sha256, contentType: "x/y", locations: ["nas-a"]))
    }
}

/// Cancels a task from a progress callback (which may run before the task handle is known).
final class Canceller: Sendable {
    private let state = Mutex<(task: Task<MigrationReport, any Error>?, requested: Bool)>((nil, false))

    func set(_ task: Task<MigrationReport, any Error>) {
        let cancelNow = state.withLock { $0.task = task; return $0.requested }
        if cancelNow { task.cancel() }
    }

    func cancel() {
        let task = state.withLock { $0.requested = true; return $0.task }
        task?.cancel()
    }
}
