import Foundation
import NIOHTTP1
import SteadfastSigV4

/// Signed requests to the cluster's S3 server (SeaweedFS checks every signature): the bucket's
/// creation and a round trip that shows uploads and downloads work. Each request is bounded in
/// time; a server that does not answer is `nil` or `false`, not an error.
enum S3Probe {
    /// One request to `endpoint` + `path` (path-style, already URL-safe), signed with `credentials`.
    static func send(
        _ method: HTTPMethod, endpoint: String, path: String, body: String? = nil, credentials: AWSCredentials, timeout: Duration = .seconds(2)
    ) async -> HTTPProbe.Response? {
        guard let url = URL(string: endpoint + path) else { return nil }
        let bytes = Array((body ?? "").utf8)
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        guard let signed = try? signer.signHeaders(method: method.rawValue, url: url, payload: bytes.isEmpty ? .empty : .bytes(bytes)) else { return nil }
        let headers = Dictionary(signed.headers.map { ($0.name, $0.value) }, uniquingKeysWith: { _, last in last })
        return await HTTPProbe.send(method, url.absoluteString, headers: headers, body: body ?? (method == .PUT ? "" : nil), timeout: timeout)
    }

    /// Whether the server stores and serves objects now: the bucket exists (created when it does
    /// not: 200, or 409 when it does), and a small object written under `cluster-probe/` reads
    /// back identical; it is deleted again. SeaweedFS opens its S3 port before its filer and
    /// volume server are ready, so an open port alone is no proof.
    static func roundTrip(endpoint: String, bucket: String, credentials: AWSCredentials) async -> Bool {
        guard let created = await send(.PUT, endpoint: endpoint, path: "/\(bucket)", credentials: credentials),
              created.status == 200 || created.status == 409 else { return false }
        let path = "/\(bucket)/cluster-probe/\(UUID().uuidString.lowercased())"
        let content = "steadfast cluster probe \(UUID().uuidString)"
        guard await send(.PUT, endpoint: endpoint, path: path, body: content, credentials: credentials)?.status == 200 else { return false }
        let read = await send(.GET, endpoint: endpoint, path: path, credentials: credentials)
        _ = await send(.DELETE, endpoint: endpoint, path: path, credentials: credentials)
        return read?.status == 200 && read?.body == content
    }
}
