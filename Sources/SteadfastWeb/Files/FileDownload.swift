import Foundation
import HTTPTypes
import Hummingbird
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
