import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing the cluster's files: the state, the admin account, the process records.
/// Every write goes to a temporary file renamed into place, so a reader never sees half a file.
public enum ClusterFiles {
    /// Writes `data` atomically with `mode`.
    public static func write(_ data: Data, to path: String, mode: Int = 0o600) throws(ClusterError) {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: mode]) else {
            throw ClusterError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ClusterError("cannot write \(path): \(reason)")
        }
    }

    public static func writeJSON(_ value: some Encodable, to path: String, mode: Int = 0o600) throws(ClusterError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch { throw ClusterError("cannot encode \(path): \(error)") }
        try write(data + Data("\n".utf8), to: path, mode: mode)
    }

    public static func readJSON<T: Decodable>(_ type: T.Type, from path: String) throws(ClusterError) -> T {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterError("cannot read \(path)")
        }
        do { return try JSONDecoder().decode(type, from: data) } catch { throw ClusterError("\(path) is damaged: \(error)") }
    }

    /// The state of the cluster in `directory`, or an error saying there is none.
    public static func loadState(directory: String) throws(ClusterError) -> ClusterState {
        let path = ClusterState.stateFile(in: directory)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ClusterError("there is no cluster in \(directory) (no cluster.json): start one with `steadfast cluster up --dir \(directory)`")
        }
        return try readJSON(ClusterState.self, from: path)
    }

    public static func processRecord(_ state: ClusterState, _ name: String) -> ProcessRecord? {
        try? readJSON(ProcessRecord.self, from: state.processFile(name))
    }

    public static func saveProcessRecord(_ record: ProcessRecord, _ state: ClusterState, _ name: String) throws(ClusterError) {
        try writeJSON(record, to: state.processFile(name), mode: 0o644)
    }

    /// Creates a directory (and its parents) with `mode`.
    public static func makeDirectory(_ path: String, mode: Int = 0o755) throws(ClusterError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        } catch {
            throw ClusterError("cannot create \(path): \(error.localizedDescription)")
        }
    }

    /// The absolute, standardised form of `path` (relative to the working directory).
    public static func absolute(_ path: String) -> String {
        let base = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path
    }

    /// The last `lines` lines of a log file, for error messages.
    public static func tail(_ path: String, lines: Int = 15) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// A random secret of `bytes` bytes as hex (safe in URLs, YAML and postgresql.conf).
    public static func secret(bytes: Int = 16) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
