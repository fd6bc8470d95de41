import Foundation
import HTTPTypes
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body: the one reader of HTML forms
/// (``CSRFMiddleware`` reads `_csrf` with it too). Hummingbird's `URLEncodedFormDecoder` is not
/// used: it refuses a repeated field name, which a browser may send; here the last one wins.
struct FormFields: Sendable {
    let values: [String: String]

    /// The form in `request`'s body, read up to the context's upload limit (413 past it); 415 if
    /// the body is not a URL-encoded form, 400 if it is malformed.
    static func read(_ request: Request, context: PortalRequestContext) async throws -> FormFields {
        guard isURLEncoded(request.headers) else {
            throw HTTPError(.unsupportedMediaType, message: "this form must be sent as application/x-www-form-urlencoded")
        }
        return try FormFields(urlEncoded: String(buffer: try await request.body.collect(upTo: context.maxUploadSize)))
    }

    static func isURLEncoded(_ headers: HTTPFields) -> Bool {
        headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true
    }

    /// Parses `name=value&...`: `+` is a space, `%XX` a byte of UTF-8, a pair without a name
    /// is skipped, a repeated name keeps its last value; 400 for a broken escape.
    init(urlEncoded body: String) throws {
        func decode(_ text: Substring) throws -> String {
            guard let decoded = String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                throw HTTPError(.badRequest, message: "the form could not be read")
            }
            return decoded
        }
        var values: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0])
            guard !key.isEmpty else { continue }
            values[key] = try parts.count > 1 ? decode(parts[1]) : ""
        }
        self.values = values
    }

    subscript(_ name: String) -> String? {
        values[name].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func flag(_ name: String) -> Bool { self[name] != nil }
}
