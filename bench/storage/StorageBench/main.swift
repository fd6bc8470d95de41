// StorageBench: moves one file up to an S3 bucket and back down through SteadfastStorage's
// S3 backend, streaming (local file → S3 → local file), and prints throughputs and the
// process's peak resident memory. Run by bench/storage/run.sh, which also times `aws s3 cp`.
//
// Usage: StorageBench --endpoint URL --bucket NAME --file PATH --out-dir DIR
//                     [--part-size BYTES] [--parallelism N] [--threshold BYTES]
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

import AsyncHTTPClient
import Foundation
import SteadfastSigV4
import SteadfastStorage

struct BenchError: Error, CustomStringConvertible {
    let description: String
}

func argument(_ name: String, default value: String? = nil) throws -> String {
    let arguments = CommandLine.arguments
    if let index = arguments.firstIndex(of: name), index + 1 < arguments.count { return arguments[index + 1] }
    if let value { return value }
    throw BenchError(description: "missing \(name)")
}

/// Peak resident set size of this process in MiB (VmHWM in /proc/self/status).
func peakRSSMiB() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kib = Double(line.split(separator: " ").dropFirst().first ?? "") ?? -1
        return kib / 1024
    }
    return -1
}

/// A `/proc/self/status` field in MiB (e.g. `RssAnon:`, `RssFile:`).
func statusMiB(_ field: String) -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix(field) {
        return (Double(line.split(separator: " ").dropFirst().first ?? "") ?? -1) / 1024
    }
    return -1
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func run() async throws {
    let endpoint = try argument("--endpoint")
    let bucket = try argument("--bucket")
    let file = URL(fileURLWithPath: try argument("--file"))
    let outDirectory = try argument("--out-dir")
    guard let credentials = AWSCredentials(environment: ProcessInfo.processInfo.environment) else {
        throw BenchError(description: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    }
    let client = S3FileStorage.makeHTTPClient()
    do {
        try await transfer(endpoint: endpoint, bucket: bucket, file: file, outDirectory: outDirectory, credentials: credentials, client: client)
    } catch {
        try? await client.shutdown()
        throw error
    }
    try await client.shutdown()
}

func transfer(endpoint: String, bucket: String, file: URL, outDirectory: String, credentials: AWSCredentials, client: HTTPClient) async throws {
    let settings = try S3Settings(
        bucket: bucket, region: "us-east-1", endpoint: URL(string: endpoint), pathStyle: true, credentials: credentials,
        multipartThreshold: Int64(try argument("--threshold", default: String(8 << 20)))!,
        partSize: Int(try argument("--part-size", default: String(8 << 20)))!,
        parallelism: Int(try argument("--parallelism", default: "3"))!
    )
    let s3 = S3FileStorage(settings: settings, httpClient: client)
    let source = try LocalFileStorage(root: file.deletingLastPathComponent().path)
    try FileManager.default.createDirectory(atPath: outDirectory, withIntermediateDirectories: true)
    let destination = try LocalFileStorage(root: outDirectory)
    let name = file.lastPathComponent
    let clock = ContinuousClock()

    // Up: local file → S3, streamed.
    let upStart = clock.now
    let input = try await source.read(key: name)
    let stored = try await s3.write(key: "steadfast/\(name)", body: input.body, size: input.contentLength, contentType: "application/octet-stream")
    let up = seconds(clock.now - upStart)

    // Down: S3 → local file (atomic write with fsync), streamed.
    let downStart = clock.now
    let output = try await s3.read(key: "steadfast/\(name)")
    let fetched = try await destination.write(key: name, body: output.body, size: output.contentLength, contentType: "application/octet-stream")
    let down = seconds(clock.now - downStart)

    guard fetched.sha256 == stored.sha256, fetched.size == stored.size else {
        throw BenchError(description: "the downloaded file differs from the uploaded one")
    }
    try await s3.delete(key: "steadfast/\(name)")
    let mebibytes = Double(stored.size) / 1_048_576
    print(String(format: "ours bytes=%d upload_s=%.3f upload_mibps=%.1f download_s=%.3f download_mibps=%.1f peak_rss_mib=%.1f rss_anon_mib=%.1f rss_file_mib=%.1f sha256=%@",
                 stored.size, up, mebibytes / up, down, mebibytes / down, peakRSSMiB(), statusMiB("RssAnon:"), statusMiB("RssFile:"), stored.sha256))
}

do {
    try await run()
} catch {
    FileHandle.standardError.write(Data("StorageBench: \(error)\n".utf8))
    exit(1)
}
