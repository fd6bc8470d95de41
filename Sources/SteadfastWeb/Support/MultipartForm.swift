import Foundation
import Hummingbird
import MultipartKit
import NIOCore

/// A `multipart/form-data` body read with MultipartKit's parser: text fields and files.
///
/// The whole body is collected first (bounded by the route's body limit), so a form whose
/// closing boundary never arrived (a truncated upload) is known before anything is stored:
/// ``isComplete`` is false and the pages answer 400.
struct MultipartForm: Sendable {
    struct File: Sendable {
        let field: String
        /// The name the browser sent, reduced to its last path component (some browsers send
        /// `C:\fakepath\name`); only ever a label.
        let filename: String
        let bytes: [UInt8]
    }

    private(set) var fields: [String: String] = [:]
    private(set) var files: [File] = []
    /// Whether the closing boundary was seen and every part ended.
    private(set) var isComplete = false

    /// The boundary of a `multipart/form-data` content type, or nil for any other type.
    static func boundary(of contentType: String?) -> String? {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            let value = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// Parses `body`; malformed syntax gives what was read before it, incomplete.
    init(body: ByteBuffer, boundary: String) {
        let parser = MultipartParser(boundary: boundary)
        var headers: [String: String] = [:]
        var current: [UInt8] = []
        var parts: [(headers: [String: String], body: [UInt8])] = []
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { buffer in current.append(contentsOf: buffer.readableBytesView) }
        parser.onPartComplete = {
            parts.append((headers, current))
            headers = [:]
            current = []
        }
        let parsed = (try? parser.execute(body)) != nil
        let closing = Array("--\(boundary)--".utf8)
        isComplete = parsed && body.readableBytesView.firstRange(of: closing) != nil && current.isEmpty && headers.isEmpty
        for part in parts {
            guard let disposition = part.headers["content-disposition"], let name = Self.parameter("name", in: disposition) else { continue }
            if let filename = Self.parameter("filename", in: disposition) {
                let last = filename.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
                guard !last.isEmpty || !part.body.isEmpty else { continue }  // an empty file input
                files.append(File(field: name, filename: last, bytes: part.body))
            } else {
                fields[name] = String(decoding: part.body, as: UTF8.self)
            }
        }
    }

    /// Reads the request's form (400 for another content type, 413 above the route's limit).
    static func read(_ request: Request, context: PortalRequestContext) async throws -> MultipartForm {
        guard let boundary = boundary(of: request.headers[.contentType]) else {
            throw HTTPError(.unsupportedMediaType, message: "this form must be sent as multipart/form-data")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        return MultipartForm(body: body, boundary: boundary)
    }

    /// A non-empty trimmed text field.
    subscript(_ name: String) -> String? {
        fields[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `name="value"` (quoted or not) in a Content-Disposition header.
    static func parameter(_ name: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == name else { continue }
            var value = pair[1]
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }
}
