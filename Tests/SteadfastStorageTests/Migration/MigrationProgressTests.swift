import Foundation
import SteadfastStorage
import SteadfastTestSupport
import Synchronization
import Testing

/// The progress line: files, bytes, rate and ETA.
@Suite struct MigrationProgressTests {
    @Test func rendersALine() {
        let progress = MigrationProgress(
            filesDone: 12, filesTotal: 40, bytesDone: 1_288_490_189, bytesTotal: 3_650_722_202, failures: 0,
            elapsed: .seconds(27), bytesPerSecond: 47_290_777, estimatedTimeRemaining: .seconds(52)
        )
        #expect(progress.rendered() == "[########----------------]  12/40 files  1.2 GiB/3.4 GiB  45.1 MiB/s  ETA 0:52")
        var failing = progress
        failing.failures = 2
        failing.estimatedTimeRemaining = .seconds(3_723)
        #expect(failing.rendered(barWidth: 10).hasSuffix("ETA 1:02:03  2 failed"))
        #expect(MigrationProgress.bytes(512) == "512 B")
    }

    /// With a clock that advances one second per reading, the rate and ETA follow the bytes.
    @Test func rateAndETAComeFromTheInjectedClock() async throws {
        try await withTemporaryDirectory { a in
            try await withTemporaryDirectory { b in
                let world = try await MigrationWorld.make(targets: ["nas-a": try LocalFileStorage(root: a), "nas-b": try LocalFileStorage(root: b)], source: "nas-a", count: 6)
                let options = MigrationOptions(concurrency: 1, progressInterval: .zero, clock: VirtualClock(stepPerReading: .seconds(1)))
                let log = ProgressLog()
                _ = try await StorageMigrator(registry: world.registry, catalog: world.catalog, options: options).migrate(type: MigrationWorld.type, to: "nas-b") { log.record($0) }
                let reports = log.all
                #expect(reports.count > 6)
                #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.bytesDone <= $1.bytesDone && $0.filesDone <= $1.filesDone })
                let middle = try #require(reports.first { $0.bytesDone > 0 && $0.bytesDone < $0.bytesTotal })
                #expect(middle.bytesPerSecond > 0)
                let eta = try #require(middle.estimatedTimeRemaining)
                let expected = Double(middle.bytesTotal - middle.bytesDone) / middle.bytesPerSecond
                #expect(abs(Double(eta.components.seconds) - expected) <= 1)
                #expect(reports.last?.estimatedTimeRemaining == .zero)
            }
        }
    }
}
