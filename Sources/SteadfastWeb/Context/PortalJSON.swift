import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SteadfastDomain

/// The API's JSON in: ``PortalRequestContext/requestDecoder``, so `request.decode(as:context:)`
/// reads every `/api/v1` body the same way.
///
/// Keys are snake_case on the wire (`department_id` fills `departmentId`); an empty body reads
/// as `{}`; the body is collected up to the context's `maxUploadSize` (over it: 413). A malformed
/// or incomplete body is a 400 naming the field (`BillingError.invalid`, rendered as JSON by
/// ``ErrorMiddleware``), never a crash.
public struct PortalJSONDecoder: RequestDecoder {
    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return try decode(type, from: Data(buffer.readableBytesView))
    }

    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try Self.decoder.decode(T.self, from: data.isEmpty ? Data("{}".utf8) : data)
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

/// The API's JSON out: ``PortalRequestContext/responseEncoder``, used by every
/// `ResponseEncodable` a handler returns and by `context.responseEncoder.encode(_:status:from:context:)`.
///
/// snake_case keys, sorted, ISO 8601 dates, slashes unescaped; `Content-Type: application/json;
/// charset=utf-8` and `Cache-Control: no-store`.
public struct PortalJSONEncoder: ResponseEncoder {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    public init() {}

    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        try encode(value, status: .ok, from: request, context: context)
    }

    /// `value` as the body of a `status` response (`.created` for what a POST made).
    public func encode(_ value: some Encodable, status: HTTPResponse.Status, from request: Request, context: some RequestContext) throws -> Response {
        Self.response(ByteBuffer(bytes: try Self.encoder.encode(value)), status: status)
    }

    /// A response with `json` as its body, byte for byte (a stored answer, e.g. an idempotent
    /// operation's), with the headers of every encoded one.
    static func response(_ json: ByteBuffer, status: HTTPResponse.Status, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: json))
    }
}
