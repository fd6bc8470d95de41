import AsyncHTTPClient
import Crypto
import NIOCore
import SteadfastDomain
import SteadfastSigV4

extension S3FileStorage {
    /// Uploads `body` in parts, `parallelism` at a time, reading the next part while the
    /// others upload. A part is kept as the chunks the body yielded, never joined into one
    /// buffer; at most `parallelism` parts are held, so memory stays near
    /// `parallelism × partSize`. On any failure,
    /// cancellation included, the upload is aborted (with ``S3Settings/abortRetry``) before the
    /// error is rethrown, so S3 keeps neither an object nor orphaned parts.
    func writeMultipart<Body: AsyncSequence>(
        key: String, body: Body, size: Int64, contentType: String
    ) async throws -> StoredObject where Body.Element == ByteBuffer {
        let printable = StorageKey.printable(key)
        let created = try await send(S3Request(
            method: .POST, key: key, query: [("uploads", nil)],
            headers: [SigV4Header("Content-Type", contentType)],
            operation: "start of the multipart upload of \(printable)"
        ))
        let createdXML = await Self.collectText(created.body, limit: 64 * 1024)
        guard let uploadID = S3XML.value("UploadId", in: createdXML[...]), !uploadID.isEmpty else {
            throw StorageError(.serverError, "\(displayName) did not return an upload id for \(printable)")
        }
        do {
            let (etags, sha256) = try await uploadParts(key: key, uploadID: uploadID, body: body, size: size)
            try await completeUpload(key: key, uploadID: uploadID, etags: etags)
            return StoredObject(key: key, size: size, sha256: sha256, contentType: contentType)
        } catch {
            await abortUpload(key: key, uploadID: uploadID)
            throw error
        }
    }

    private func uploadParts<Body: AsyncSequence>(
        key: String, uploadID: String, body: Body, size: Int64
    ) async throws -> (etags: [Int: String], sha256: String) where Body.Element == ByteBuffer {
        let partSize = settings.partSize(forObjectOfSize: size)
        let parallelism = settings.parallelism
        let printable = StorageKey.printable(key)
        var hasher = SHA256()
        var received: Int64 = 0
        var etags: [Int: String] = [:]
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var inFlight = 0
            var partNumber = 0
            // A part is kept as the chunks the body yielded (no copy into one big buffer).
            var chunks: [ByteBuffer] = []
            var partBytes = 0
            var iterator = body.makeAsyncIterator()

            /// Starts uploading the collected chunks as the next part, then waits until fewer
            /// than `parallelism` parts are in flight, so at most `parallelism` parts are held.
            func submitPart() async throws {
                partNumber += 1
                let number = partNumber
                let part = chunks
                let length = partBytes
                chunks = []
                partBytes = 0
                var partHasher = SHA256()
                for chunk in part { partHasher.update(buffer: chunk) }
                let request = S3Request(
                    method: .PUT, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                    bodyChunks: part, bodyLength: length,
                    payload: .sha256Hex(SHA256Hex.string(partHasher.finalize())),
                    operation: "upload of part \(number) of \(printable)"
                )
                group.addTask {
                    let response = try await self.send(request)
                    guard let etag = response.headers.first(name: "etag") else {
                        throw StorageError(.serverError, "\(self.displayName) returned no ETag for part \(number) of \(printable)")
                    }
                    return (number, etag)
                }
                inFlight += 1
                while inFlight >= parallelism, let (finished, etag) = try await group.next() {
                    etags[finished] = etag
                    inFlight -= 1
                }
            }

            while let next = try await iterator.next() {
                var chunk = next
                received += Int64(chunk.readableBytes)
                guard received <= size else {
                    throw StorageError(.sizeMismatch, "the body for \(printable) is longer than its declared \(size) bytes; nothing was stored")
                }
                hasher.update(buffer: chunk)
                while chunk.readableBytes > 0 {
                    let slice = chunk.readSlice(length: min(chunk.readableBytes, partSize - partBytes))!
                    chunks.append(slice)
                    partBytes += slice.readableBytes
                    if partBytes == partSize { try await submitPart() }
                }
            }
            if partBytes > 0 { try await submitPart() }
            guard received == size else {
                throw StorageError(.sizeMismatch, "the body for \(printable) had \(received) bytes, not the declared \(size); nothing was stored")
            }
            while let (number, etag) = try await group.next() { etags[number] = etag }
        }
        return (etags, SHA256Hex.string(hasher.finalize()))
    }

    private func completeUpload(key: String, uploadID: String, etags: [Int: String]) async throws {
        var xml = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for number in etags.keys.sorted() {
            xml += "<Part><PartNumber>\(number)</PartNumber><ETag>\(MarkupEscaping.escape(etags[number]!))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let body = ByteBuffer(string: xml)
        let response = try await send(S3Request(
            method: .POST, key: key, query: [("uploadId", uploadID)],
            headers: [SigV4Header("Content-Type", "application/xml")],
            body: body, payload: .sha256Hex(SHA256Hex.of(body)),
            operation: "completion of the multipart upload of \(StorageKey.printable(key))"
        ))
        // S3 may answer 200 and still report an error in the body.
        let answer = await Self.collectText(response.body, limit: 64 * 1024)
        if answer.contains("<Error>") {
            throw describeFailure(status: 500, body: answer, request: S3Request(method: .POST, key: key, operation: "completion of the multipart upload of \(StorageKey.printable(key))"), headers: response.headers)
        }
    }

    /// Aborts an upload in a task of its own, so a cancelled caller still cleans up.
    func abortUpload(key: String, uploadID: String) async {
        let storage = self
        let request = S3Request(
            method: .DELETE, key: key, query: [("uploadId", uploadID)],
            operation: "abort of the multipart upload of \(StorageKey.printable(key))"
        )
        await Task {
            do {
                _ = try await storage.send(request, policy: storage.settings.abortRetry, accepting: [404])
            } catch {
                storage.logger.error("could not abort a failed multipart upload; its parts stay billed until a lifecycle rule removes them", metadata: [
                    "steadfast.storage.bucket": "\(storage.settings.bucket)",
                    "steadfast.storage.key": "\(key)",
                    "steadfast.storage.upload_id": "\(uploadID)",
                    "steadfast.storage.error": "\(error)",
                ])
            }
        }.value
    }
}
