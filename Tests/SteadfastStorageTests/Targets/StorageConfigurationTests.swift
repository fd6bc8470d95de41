import Foundation
import SteadfastStorage
import Testing

/// The storage configuration as the portal's config file gives it (JSON here; YAML decodes
/// to the same `Decodable`).
@Suite struct StorageConfigurationTests {
    static let json = """
    {
      "default_target": "nas",
      "targets": [
        { "name": "nas", "kind": "local", "path": "/mnt/nas/steadfast", "download_base_url": "https://portal.example.com/files" },
        { "name": "s3-main", "kind": "s3", "bucket": "steadfast-files", "region": "eu-central-1",
          "endpoint": "http://minio:9000", "multipart_threshold": "32 MiB", "part_size": 8388608,
          "parallelism": 6, "key_prefix": "prod/", "access_key_id": "AKIAEXAMPLE", "secret_access_key": "s3cr3t" }
      ],
      "types": {
        "ticket_attachments": { "target": "s3-main", "prefix": "tickets/" },
        "downloads": { "target": "s3-main" }
      }
    }
    """

    @Test func decodesTargetsAndRoutes() throws {
        let configuration = try JSONDecoder().decode(StorageConfiguration.self, from: Data(Self.json.utf8))
        #expect(configuration.targets.map(\.name) == ["nas", "s3-main"])
        let routes = try configuration.resolvedRoutes()
        #expect(routes[.ticketAttachments] == StorageRoute(target: "s3-main", prefix: "tickets/"))
        #expect(routes[.downloads] == StorageRoute(target: "s3-main", prefix: "downloads/"))
        #expect(routes[.projectFiles] == StorageRoute(target: "nas", prefix: "project_files/"))
        let settings = try configuration.targets[1].s3Settings(environment: [:])
        #expect(settings.multipartThreshold == 32 << 20 && settings.partSize == 8 << 20 && settings.parallelism == 6)
        #expect(settings.pathStyle)  // an endpoint defaults to path-style addressing
        #expect(settings.region == "eu-central-1")
    }

    @Test func credentialsFallBackToTheEnvironment() throws {
        let target = StorageTarget(name: "aws", kind: .s3, bucket: "steadfast-files")
        let environment = ["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret", "AWS_SESSION_TOKEN": "tok"]
        let settings = try target.s3Settings(environment: environment)
        #expect(settings.credentials.accessKeyID == "AKIAENV" && settings.credentials.sessionToken == "tok")
        #expect(!settings.pathStyle && settings.region == "us-east-1")
        let missing = #expect(throws: StorageError.self) { try target.s3Settings(environment: [:]) }
        #expect(missing?.kind == .missingCredentials)
        #expect(missing?.message.contains("AWS_ACCESS_KEY_ID") == true)
    }

    @Test func badConfigurationsAreExplained() throws {
        func routes(_ json: String) throws -> [FileType: StorageRoute] {
            try JSONDecoder().decode(StorageConfiguration.self, from: Data(json.utf8)).resolvedRoutes()
        }
        let noRoute = #expect(throws: StorageError.self) { try routes(#"{"targets":[{"name":"a","kind":"local","path":"/x"}]}"#) }
        #expect(noRoute?.message.contains("has no storage target") == true)
        let unknown = #expect(throws: StorageError.self) { try routes(#"{"default_target":"b","targets":[{"name":"a","kind":"local","path":"/x"}]}"#) }
        #expect(unknown?.kind == .unknownTarget)
        let duplicate = #expect(throws: StorageError.self) { try routes(#"{"default_target":"a","targets":[{"name":"a","kind":"local","path":"/x"},{"name":"a","kind":"local","path":"/y"}]}"#) }
        #expect(duplicate?.message.contains("two storage targets are named 'a'") == true)
        let prefix = #expect(throws: StorageError.self) { try routes(#"{"default_target":"a","targets":[{"name":"a","kind":"local","path":"/x"}],"types":{"downloads":{"target":"a","prefix":"../"}}}"#) }
        #expect(prefix?.kind == .invalidConfiguration)
        #expect(throws: DecodingError.self) { try routes(#"{"default_target":"a","targets":[{"name":"a","kind":"local","path":"/x"}],"types":{"invoices":{"target":"a"}}}"#) }
        #expect(throws: DecodingError.self) { try routes(#"{"targets":[{"name":"a","kind":"s3","bucket":"b","part_size":"lots"}]}"#) }
        let partSize = #expect(throws: StorageError.self) { try StorageTarget(name: "s", kind: .s3, bucket: "bucket", accessKeyID: "a", secretAccessKey: "b", partSize: ByteCount(bytes: 1 << 20)).s3Settings(environment: [:]) }
        #expect(partSize?.message.contains("at least 5 MiB") == true)
        let bucket = #expect(throws: StorageError.self) { try StorageTarget(name: "s", kind: .s3, bucket: "Bad_Bucket!", accessKeyID: "a", secretAccessKey: "b").s3Settings(environment: [:]) }
        #expect(bucket?.message.contains("not a valid bucket name") == true)
    }

    @Test func byteCountsReadLikeAPerson() {
        #expect(ByteCount.parse("16 MiB") == 16 << 20)
        #expect(ByteCount.parse("8MB") == 8_000_000)
        #expect(ByteCount.parse("1GiB") == 1 << 30)
        #expect(ByteCount.parse("4096") == 4096)
        #expect(ByteCount.parse("lots") == nil)
    }
}
