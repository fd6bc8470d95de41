import Foundation
import HTTPTypes
import Hummingbird
import SteadfastServices
import SteadfastStorage

/// Streams a stored object as an HTTP response: `Range` support (206 + `Content-Range`, 416 for
/// a range outside the file), the download file name, and headers that stop browsers from
/// rendering uploads as pages.
enum FileDownload {
    /// Parses `Range: bytes=START-[END]` (one range; suffix ranges are not supported → nil).
    static func byteRange(from header: String?) throws -> ByteRange? {
        guard let header else { return nil }
        guard header.hasPrefix("bytes="), !header.contains(",") else {
            throw HTTPError(.rangeNotSatisfiable, message: "only a single 'bytes=START-END' range is supported")
        }
        let spec = header.dropFirst("bytes=".count).split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard spec.count == 2, let start = Int64(spec[0]), start >= 0 else {
            throw HTTPError(.rangeNotSatisfiable, message: "only a single 'bytes=START-END' range is supported")
        }
        if spec[1].isEmpty { return try ByteRange(offset: start) }
        guard let end = Int64(spec[1]), end >= start else {
            throw HTTPError(.rangeNotSatisfiable, message: "the range end must not be before its start")
        }
        // end ≥ start ≥ 0, so end - start cannot overflow; + 1 can (bytes=0-9223372036854775807),
        // and a range that long is simply "to the end".
        let (length, overflow) = (end - start).addingReportingOverflow(1)
        return try ByteRange(offset: start, length: overflow ? nil : length)
    }

    /// Answers a GET for a stored file (ticket attachments, the downloads library): the bytes
    /// with `Range` support (416 for a range past the end), or, when `redirect` is allowed and
    /// asked for with `?redirect=1`, a 303 to a five-minute link (presigned on S3 targets).
    static func serve(_ file: StoredFile, from files: FileService, filename: String, contentType: String, request: Request, redirect allowRedirect: Bool = true) async throws -> Response {
        if allowRedirect, request.uri.queryParameters.get("redirect") == "1" {
            let url = try await files.downloadURL(file, expiresIn: .seconds(300))
            return redirect(to: FilesAPIController.presentable(url))
        }
        let range = try byteRange(from: request.headers[.range])
        if let range, range.offset >= max(file.size, 1) {
            throw HTTPError(.rangeNotSatisfiable, headers: [.contentRange: "bytes */\(file.size)"], message: "the range starts beyond the end of the file")
        }
        return response(try await files.open(file, range: range), filename: filename, contentType: contentType)
    }

    /// Whether the request asks for the file from its first byte (no `Range`, or one starting
    /// at 0): what counts as one download, however many ranges a download manager asks for.
    static func startsAtFirstByte(_ request: Request) -> Bool {
        ((try? byteRange(from: request.headers[.range]))??.offset ?? 0) == 0
    }

    static func response(_ read: StorageReadResult, filename: String, contentType: String) -> Response {
        var headers: HTTPFields = [
            .contentType: contentType,
            .contentLength: String(read.contentLength),
            .acceptRanges: "bytes",
            .cacheControl: "private, no-store",
        ]
        headers[.contentDisposition] = disposition(filename)
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; sandbox"
        var status = HTTPResponse.Status.ok
        if let range = read.range {
            status = .partialContent
            headers[.contentRange] = "bytes \(range.offset)-\(range.offset + range.count - 1)/\(read.object.size)"
        }
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: read.body))
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`.
    static func disposition(_ filename: String) -> String {
        let ascii = String(filename.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = filename.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
