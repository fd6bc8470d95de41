import AsyncHTTPClient
import Foundation
import SteadfastStorage
import Testing

/// Routing file types to targets, switching at runtime, and the checks of every target.
@Suite(.serialized) struct StorageRegistryTests {
    static func localConfiguration(_ a: String, _ b: String) -> StorageConfiguration {
        StorageConfiguration(
            targets: [StorageTarget(name: "nas-a", kind: .local, path: a), StorageTarget(name: "nas-b", kind: .local, path: b, keyPrefix: "b/")],
            defaultTarget: "nas-a",
            types: [.ticketAttachments: .init(target: "nas-b", prefix: "tickets/")]
        )
    }

    @Test func typesGoToTheirTargetUnderTheirPrefix() async throws {
        try await withTemporaryDirectory { a in
            try await withTemporaryDirectory { b in
                let registry = try StorageRegistry(configuration: Self.localConfiguration(a, b), httpClient: S3Fixture.httpClient)
                let tickets = registry.storage(for: .ticketAttachments)
                #expect(tickets.targetName == "nas-b" && tickets.prefix == "b/tickets/")
                let stored = try await tickets.write(key: "12/log.txt", body: StorageByteStream.bytes([1, 2]), size: 2, contentType: "text/plain")
                #expect(stored.key == "12/log.txt")
                #expect(FileManager.default.fileExists(atPath: b + "/b/tickets/12/log.txt"))
                #expect(try await tickets.listAll(prefix: "").map(\.key) == ["12/log.txt"])
                #expect(try await tickets.metadata(key: "12/log.txt")?.key == "12/log.txt")

                let downloads = registry.storage(for: .downloads)
                #expect(downloads.targetName == "nas-a" && downloads.prefix == "downloads/")

                // Switch at runtime: new files go to the new target, old ones are still readable where they are.
                try registry.switchTarget(of: .ticketAttachments, to: "nas-a")
                #expect(registry.storage(for: .ticketAttachments).targetName == "nas-a")
                #expect(registry.route(for: .ticketAttachments).prefix == "tickets/")
                let old = try registry.storage(for: .ticketAttachments, on: "nas-b")
                #expect(try await TestData.collect(old.read(key: "12/log.txt").body) == [1, 2])
                let unknown = #expect(throws: StorageError.self) { try registry.switchTarget(of: .downloads, to: "nowhere") }
                #expect(unknown?.kind == .unknownTarget)
            }
        }
    }

    /// A switch recorded in the catalogue reaches another node on its next refresh.
    @Test func anotherNodePicksUpASwitchWithoutRestart() async throws {
        try await withTemporaryDirectory { a in
            try await withTemporaryDirectory { b in
                let catalog = InMemoryFileCatalog()
                let nodeA = try StorageRegistry(configuration: Self.localConfiguration(a, b), httpClient: S3Fixture.httpClient)
                let nodeB = try StorageRegistry(configuration: Self.localConfiguration(a, b), httpClient: S3Fixture.httpClient)
                try await catalog.switchTarget(of: .downloads, to: "nas-b")
                try nodeA.switchTarget(of: .downloads, to: "nas-b")
                #expect(nodeB.storage(for: .downloads).targetName == "nas-a")
                try await nodeB.refreshRoutes(from: catalog)
                #expect(nodeB.storage(for: .downloads).targetName == "nas-b")
                #expect(nodeB.storage(for: .ticketAttachments).targetName == "nas-b")  // untouched types keep their route
            }
        }
    }

    @Test func checksReportEveryTargetWithLatencyOrAClearError() async throws {
        try await withS3 { s3 in
            try await withTemporaryDirectory { a in
                let configuration = StorageConfiguration(
                    targets: [
                        StorageTarget(name: "nas", kind: .local, path: a),
                        StorageTarget(name: "nas-gone", kind: .local, path: a + "/not-mounted"),
                        StorageTarget(name: "s3-main", kind: .s3, bucket: s3.bucket, endpoint: s3.server.endpoint.absoluteString, accessKeyID: "AKIAX", secretAccessKey: "x", keyPrefix: "prod/"),
                        StorageTarget(name: "s3-typo", kind: .s3, bucket: "no-such-bucket", endpoint: s3.server.endpoint.absoluteString, accessKeyID: "AKIAX", secretAccessKey: "x"),
                    ],
                    defaultTarget: "nas"
                )
                let registry = try StorageRegistry(configuration: configuration, environment: [:], httpClient: S3Fixture.httpClient)
                for checks in [await registry.healthCheck(), await registry.probe()] {
                    #expect(checks.map(\.target) == ["nas", "nas-gone", "s3-main", "s3-typo"])
                    #expect(checks.map(\.isHealthy) == [true, false, true, false], "\(checks.map(\.line))")
                    #expect(checks[0].latency != nil && checks[2].latency != nil)
                    #expect(checks[1].line.contains("FAILED") && checks[1].line.contains("does not exist (is the NAS mounted?)"))
                    #expect(checks[3].error?.kind == .noSuchBucket)
                    #expect(checks[0].line.hasPrefix("nas           ok  "))
                }
                // The probe cleaned up after itself.
                #expect(try await registry.targets["s3-main"]!.listAll(prefix: "").isEmpty)
                #expect(try await registry.targets["nas"]!.listAll(prefix: "").isEmpty)
            }
        }
    }
}
