import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body, for forms whose field names are
/// not fixed (product options) and for reading optional fields simply.
struct FormFields: Sendable {
    let values: [String: String]

    static func read(_ request: Request, context: PortalRequestContext) async throws -> FormFields {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw HTTPError(.unsupportedMediaType, message: "this form must be sent as application/x-www-form-urlencoded")
        }
        let body = String(buffer: try await request.body.collect(upTo: context.maxUploadSize))
        var values: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            let key = decode(parts[0])
            guard !key.isEmpty else { continue }
            values[key] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return FormFields(values: values)
    }

    subscript(_ name: String) -> String? {
        values[name].flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0.trimmingCharacters(in: .whitespacesAndNewlines) }
    }

    func flag(_ name: String) -> Bool { self[name] != nil }
}
