import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SteadfastSigV4
import SteadfastDomain

/// One S3 request before signing: method, key (nil for the bucket), query and headers.
struct S3Request: Sendable {
    var method: HTTPMethod
    var key: String?
    /// Query parameters in sending order; a nil value is sent as a bare name (`?uploads`).
    var query: [(String, String?)] = []
    var headers: [SigV4Header] = []
    var body: ByteBuffer?
    /// A body kept as several buffers (multipart parts), sent without joining them.
    var bodyChunks: [ByteBuffer]?
    /// The total length of `bodyChunks`.
    var bodyLength: Int = 0
    var payload: SigV4Payload = .empty
    /// Names the operation in messages (`upload part 3 of 'a/b'`).
    var operation: String
}

extension S3FileStorage {
    /// The URL of the bucket or of an object, path and query encoded the SigV4 way.
    func url(key: String?, query: [(String, String?)] = []) -> URL {
        let endpoint = settings.resolvedEndpoint
        let scheme = endpoint.scheme ?? "https"
        var host = endpoint.host(percentEncoded: true) ?? ""
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        let port = endpoint.port.map { ":\($0)" } ?? ""
        var path: String
        if settings.pathStyle {
            path = "/" + SigV4URIEncoding.encode(settings.bucket)
            if let key { path += "/" + SigV4URIEncoding.encode(key, keepSlash: true) }
        } else {
            host = settings.bucket + "." + host
            path = "/" + (key.map { SigV4URIEncoding.encode($0, keepSlash: true) } ?? "")
        }
        var text = "\(scheme)://\(host)\(port)\(path)"
        if !query.isEmpty {
            text += "?" + query.map { name, value in
                SigV4URIEncoding.encode(name) + (value.map { "=" + SigV4URIEncoding.encode($0) } ?? "")
            }.joined(separator: "&")
        }
        return URL(string: text)!
    }

    /// Sends a request, retrying per `policy`. Returns the response when its status is 2xx
    /// (or in `accepting`); any other answer becomes a ``StorageError`` explaining it.
    func send(_ request: S3Request, policy: S3RetryPolicy? = nil, accepting: Set<UInt> = []) async throws -> HTTPClientResponse {
        let policy = policy ?? settings.retry
        var attempt = 1
        while true {
            try Task.checkCancellation()
            let outcome: Result<HTTPClientResponse, any Error>
            do {
                outcome = .success(try await sendOnce(request))
            } catch {
                outcome = .failure(error)
            }
            switch outcome {
            case .success(let response):
                let status = response.status.code
                if (200..<300).contains(status) || accepting.contains(status) { return response }
                let body = await Self.collectText(response.body, limit: 64 * 1024)
                let failure = describeFailure(status: status, body: body, request: request, headers: response.headers)
                guard Self.isRetryable(status: status, body: body), attempt < policy.maximumAttempts else {
                    throw failure
                }
                logger.debug("S3 request failed, will retry", metadata: [
                    "steadfast.storage.operation": "\(request.operation)", "steadfast.storage.status": "\(status)",
                    "steadfast.storage.attempt": "\(attempt)",
                ])
            case .failure(let error):
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                if let storageError = error as? StorageError { throw storageError }
                guard attempt < policy.maximumAttempts else {
                    throw StorageError(.unavailable, "\(request.operation) on \(displayName) failed after \(attempt) attempt(s): \(Self.describeTransport(error))")
                }
                logger.debug("S3 request failed, will retry", metadata: [
                    "steadfast.storage.operation": "\(request.operation)", "steadfast.storage.error": "\(Self.describeTransport(error))",
                    "steadfast.storage.attempt": "\(attempt)",
                ])
            }
            try await policy.sleep(policy.delay(beforeRetry: attempt))
            attempt += 1
        }
    }

    private func sendOnce(_ request: S3Request) async throws -> HTTPClientResponse {
        let url = self.url(key: request.key, query: request.query)
        let signed = try signer.signHeaders(
            method: request.method.rawValue, url: url, headers: request.headers, payload: request.payload, date: now()
        )
        var http = HTTPClientRequest(url: url.absoluteString)
        http.method = request.method
        for header in signed.headers { http.headers.add(name: header.name, value: header.value) }
        if let body = request.body {
            http.body = .bytes(body)
        } else if let chunks = request.bodyChunks {
            http.body = .stream(StorageByteStream.buffers(chunks), length: .known(Int64(request.bodyLength)))
        } else if request.method == .PUT || request.method == .POST {
            http.body = .bytes(ByteBuffer())
        }
        return try await httpClient.execute(http, timeout: TimeAmount(settings.requestTimeout), logger: logger)
    }

    static func isRetryable(status: UInt, body: String) -> Bool {
        if status >= 500 || status == 429 { return true }
        if status == 400, body.contains("<Code>RequestTimeout</Code>") { return true }
        return false
    }

    /// Reads up to `limit` bytes of a response body as text (for error documents).
    static func collectText(_ body: HTTPClientResponse.Body, limit: Int) async -> String {
        var collected = ByteBuffer()
        do {
            for try await var chunk in body {
                if collected.readableBytes < limit {
                    var slice = chunk.readSlice(length: min(chunk.readableBytes, limit - collected.readableBytes)) ?? ByteBuffer()
                    collected.writeBuffer(&slice)
                }
            }
        } catch {}
        return String(buffer: collected)
    }

    /// A transport failure in words, without URLs (they may carry presigned credentials).
    static func describeTransport(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connecting timed out"
            case .readTimeout: return "the server stopped answering (read timeout)"
            case .deadlineExceeded: return "the request took longer than the configured timeout"
            case .remoteConnectionClosed: return "the server closed the connection"
            default: return "HTTP client error \(error)"
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    /// The ``StorageError`` for an error answer, with S3's code turned into advice.
    func describeFailure(status: UInt, body: String, request: S3Request, headers: HTTPHeaders) -> StorageError {
        let code = S3XML.value("Code", in: body[...])
        let serverMessage = S3XML.value("Message", in: body[...])
        let bucket = "bucket '\(settings.bucket)' at \(settings.resolvedEndpoint.host(percentEncoded: true) ?? "?")"
        let what = request.operation
        switch code {
        case "NoSuchBucket":
            return StorageError(.noSuchBucket, "\(what) failed: \(bucket) does not exist (check the bucket name, region and endpoint)")
        case "NoSuchKey":
            return StorageError(.notFound, "\(what) failed: no object \(StorageKey.printable(request.key ?? "")) in \(bucket)")
        case "AccessDenied", "AllAccessDisabled", "AccountProblem":
            return StorageError(.accessDenied, "\(what) failed: access denied to \(bucket); the access key \(settings.credentials.accessKeyID) lacks permission for this operation or a bucket policy forbids it")
        case "SignatureDoesNotMatch":
            return StorageError(.signatureMismatch, "\(what) failed: \(bucket) rejected the request signature; the secret access key for \(settings.credentials.accessKeyID) is probably wrong (or a proxy altered the request)")
        case "InvalidAccessKeyId":
            return StorageError(.invalidCredentials, "\(what) failed: \(bucket) does not know the access key id \(settings.credentials.accessKeyID)")
        case "ExpiredToken", "InvalidToken", "TokenRefreshRequired":
            return StorageError(.invalidCredentials, "\(what) failed: the session token for \(settings.credentials.accessKeyID) is expired or invalid")
        case "RequestTimeTooSkewed":
            return StorageError(.invalidCredentials, "\(what) failed: this node's clock differs from the server's by more than 15 minutes; fix NTP")
        case "InvalidRange":
            return StorageError(.invalidRange, "\(what) failed: the byte range starts beyond the end of \(StorageKey.printable(request.key ?? ""))")
        case "PermanentRedirect", "AuthorizationHeaderMalformed":
            let region = headers.first(name: "x-amz-bucket-region").map { " (the bucket is in \($0))" } ?? ""
            return StorageError(.invalidConfiguration, "\(what) failed: \(bucket) is not in region \(settings.region)\(region) or needs another endpoint")
        case "SlowDown", "ServiceUnavailable", "InternalError":
            return StorageError(.unavailable, "\(what) failed: \(bucket) kept answering \(code!) (\(status)) after retries")
        case .some(let code):
            return StorageError(.serverError, "\(what) failed: \(bucket) answered \(status) \(code)\(serverMessage.map { ": \($0)" } ?? "")")
        case nil:
            // HEAD answers and some proxies carry no error document: judge by the status.
            switch status {
            case 404 where request.key == nil:
                return StorageError(.noSuchBucket, "\(what) failed: \(bucket) does not exist (check the bucket name, region and endpoint)")
            case 404:
                return StorageError(.notFound, "\(what) failed: no object \(StorageKey.printable(request.key ?? "")) in \(bucket)")
            case 403:
                return StorageError(.accessDenied, "\(what) failed: \(bucket) answered 403 Forbidden: the access key \(settings.credentials.accessKeyID) or its secret is wrong, or it lacks permission")
            case 301, 307:
                let region = headers.first(name: "x-amz-bucket-region").map { " (the bucket is in \($0))" } ?? ""
                return StorageError(.invalidConfiguration, "\(what) failed: \(bucket) is not in region \(settings.region)\(region)")
            case 416:
                return StorageError(.invalidRange, "\(what) failed: the byte range starts beyond the end of \(StorageKey.printable(request.key ?? ""))")
            case 500...599, 429:
                return StorageError(.unavailable, "\(what) failed: \(bucket) kept answering \(status) after retries")
            default:
                return StorageError(.serverError, "\(what) failed: \(bucket) answered \(status)")
            }
        }
    }
}
