import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SteadfastDomain
import SteadfastServices

/// JSON in and out for the billing API: snake_case keys, sorted, ISO 8601 dates; decoding
/// errors become 400s naming the field.
enum BillingJSON {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        raw(String(decoding: try encoder.encode(value), as: UTF8.self), status: status)
    }

    /// A response with `json` as its body, byte for byte.
    static func raw(_ json: String, status: HTTPResponse.Status = .ok, replayed: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if replayed { headers[Self.replayed] = "true" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    /// The answer of an idempotent operation (identical for the original and every replay).
    static func idempotent<T>(_ result: IdempotentResult<T>, status: HTTPResponse.Status = .ok) -> Response {
        raw(result.json, status: status, replayed: result.replayed)
    }

    /// Decodes the JSON body; a malformed or incomplete body is a 400 naming the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, context: PortalRequestContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let data = Data(buffer.readableBytesView)
        do {
            return try decoder.decode(T.self, from: data.isEmpty ? Data("{}".utf8) : data)
        } catch let error as DecodingError {
            throw Self.problem(error)
        } catch let error as BillingError {
            throw error
        } catch {
            throw BillingError.invalid("the body is not valid JSON")
        }
    }

    static func problem(_ error: DecodingError) -> BillingError {
        func field(_ path: [any CodingKey]) -> String? {
            let parts = path.filter { $0.intValue == nil }.map { snake($0.stringValue) }
            return parts.isEmpty ? nil : parts.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let name = field(context.codingPath + [key]) ?? snake(key.stringValue)
            return .invalid("\(name) is required", field: name)
        case .valueNotFound(_, let context):
            let name = field(context.codingPath)
            return .invalid("\(name ?? "a value") is required", field: name)
        case .typeMismatch(let type, let context):
            let name = field(context.codingPath)
            return .invalid("\(name ?? "the body") must be \(describe(type))", field: name)
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError as? BillingError { return underlying }
            let name = field(context.codingPath)
            return .invalid(name.map { "\($0) has an invalid value" } ?? "the body is not valid JSON", field: name)
        @unknown default:
            return .invalid("the body could not be read")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "a whole number"
        case is Bool.Type: "true or false"
        default: "of another type"
        }
    }

    static func snake(_ camel: String) -> String {
        var result = ""
        for character in camel {
            if character.isUppercase {
                if !result.isEmpty && !result.hasSuffix("_") { result += "_" }
                result += character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }
}
