import Foundation
import SteadfastStorage
import Testing

/// local → S3 (moto_server) → local: every file comes back byte-identical.
@Suite(.serialized) struct MigrationRoundTripTests {
    @Test func localToS3ToLocal() async throws {
        try await withS3 { s3 in
            try await withTemporaryDirectory { a in
                try await withTemporaryDirectory { b in
                    let bucket = try s3.storage(s3.settings(multipartThreshold: 5 << 20, partSize: 5 << 20, parallelism: 2))
                    let world = try await MigrationWorld.make(
                        targets: ["nas-a": try LocalFileStorage(root: a), "s3": bucket, "nas-b": try LocalFileStorage(root: b)],
                        source: "nas-a", count: 8
                    )
                    // One file big enough for a multipart upload on the way to S3.
                    let big: Int64 = 11 << 20
                    let stored = try await world.registry.storage(for: MigrationWorld.type).write(key: "big/archive.tar", body: TestData.generatedStream(size: big, seed: 77), size: big, contentType: "application/x-tar")
                    await world.catalog.add(CatalogFile(id: "f50", type: MigrationWorld.type, key: "big/archive.tar", size: big, sha256: stored.sha256, contentType: stored.contentType, locations: ["nas-a"]))

                    let migrator = StorageMigrator(registry: world.registry, catalog: world.catalog)
                    let toS3 = try await migrator.migrate(type: MigrationWorld.type, to: "s3")
                    #expect(toS3.isComplete && toS3.copied == 9, "\(toS3.failures)")
                    #expect(world.registry.storage(for: MigrationWorld.type).targetName == "s3")
                    #expect(try await world.expectAll(on: "s3"))

                    // Back to a local directory, reading from S3 (the current target).
                    let toLocal = try await migrator.migrate(type: MigrationWorld.type, to: "nas-b")
                    #expect(toLocal.isComplete && toLocal.copied == 9, "\(toLocal.failures)")
                    #expect(try await world.expectAll(on: "nas-b"))
                    let back = try await TestData.digest(world.registry.storage(for: MigrationWorld.type, on: "nas-b").read(key: "big/archive.tar").body)
                    #expect(back.size == big && back.sha256 == TestData.sha256OfGenerated(size: big, seed: 77))
                    // Byte-identical files on disk, compared directly.
                    for file in await world.catalog.allFiles() where file.id != "f50" {
                        let original = try Data(contentsOf: URL(fileURLWithPath: a + "/client_files/" + file.key))
                        let copy = try Data(contentsOf: URL(fileURLWithPath: b + "/client_files/" + file.key))
                        #expect(original == copy, "\(file.key)")
                    }
                    #expect(await world.catalog.allFiles().allSatisfy { $0.locations == ["nas-a", "s3", "nas-b"] })
                }
            }
        }
    }
}
