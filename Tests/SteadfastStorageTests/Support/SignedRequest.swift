import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SteadfastSigV4

/// Sends one raw signed request (bucket creation, IAM calls, listing multipart uploads): the
/// operations tests need that the storage API has no reason to offer.
enum SignedRequest {
    static func send(
        _ method: HTTPMethod, _ url: String, credentials: AWSCredentials, service: String = "s3",
        body: String = "", contentType: String? = nil
    ) async throws -> (status: UInt, body: String) {
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1", service: service)
        var headers: [SigV4Header] = []
        if let contentType { headers.append(SigV4Header("Content-Type", contentType)) }
        let bytes = Array(body.utf8)
        let signed = try signer.signHeaders(method: method.rawValue, url: URL(string: url)!, headers: headers, payload: bytes.isEmpty ? .empty : .bytes(bytes))
        var request = HTTPClientRequest(url: url)
        request.method = method
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        if !bytes.isEmpty || method == .PUT || method == .POST { request.body = .bytes(ByteBuffer(bytes: bytes)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 16 << 20)
        return (response.status.code, String(buffer: collected))
    }
}
