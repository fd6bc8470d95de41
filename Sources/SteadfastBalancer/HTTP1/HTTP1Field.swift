/// One field line of a parsed head, as offsets into the head's bytes (no copy of the text).
/// `lineStart..<lineEnd` is the whole line including its CRLF, `name` is the field name and
/// `value` the value without surrounding whitespace.
struct HTTP1Field: Equatable {
    /// The field names the balancer acts on; every other name is `.other` and forwarded as is.
    enum Kind: UInt8, Equatable {
        case other
        case host
        case contentLength
        case transferEncoding
        case connection
        case keepAlive
        case proxyConnection
        case te
        case trailer
        case upgrade
        case xForwardedFor
        case xForwardedProto
        case xForwardedHost
        case xRequestID
        case cookie

        /// Fields that describe one connection only and never cross a proxy (RFC 9110 §7.6.1).
        var isHopByHop: Bool {
            switch self {
            case .connection, .keepAlive, .proxyConnection, .te, .trailer, .transferEncoding, .upgrade: true
            default: false
            }
        }

        /// The kind of the field name in `bytes[range]` (a validated token).
        static func classify(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Kind {
            switch range.count {
            case 2:
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "te") ? .te : .other
            case 4:
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "host") ? .host : .other
            case 6:
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "cookie") ? .cookie : .other
            case 7:
                if HTTP1Syntax.equalsIgnoringCase(bytes, range, "trailer") { return .trailer }
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "upgrade") ? .upgrade : .other
            case 10:
                if HTTP1Syntax.equalsIgnoringCase(bytes, range, "connection") { return .connection }
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "keep-alive") ? .keepAlive : .other
            case 12:
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "x-request-id") ? .xRequestID : .other
            case 14:
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "content-length") ? .contentLength : .other
            case 15:
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "x-forwarded-for") ? .xForwardedFor : .other
            case 16:
                if HTTP1Syntax.equalsIgnoringCase(bytes, range, "x-forwarded-host") { return .xForwardedHost }
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "proxy-connection") ? .proxyConnection : .other
            case 17:
                if HTTP1Syntax.equalsIgnoringCase(bytes, range, "x-forwarded-proto") { return .xForwardedProto }
                return HTTP1Syntax.equalsIgnoringCase(bytes, range, "transfer-encoding") ? .transferEncoding : .other
            default:
                return .other
            }
        }
    }

    var lineStart: Int32
    var nameEnd: Int32
    var valueStart: Int32
    var valueEnd: Int32
    var lineEnd: Int32
    var kind: Kind

    var name: Range<Int> { Int(lineStart)..<Int(nameEnd) }
    var value: Range<Int> { Int(valueStart)..<Int(valueEnd) }
    var line: Range<Int> { Int(lineStart)..<Int(lineEnd) }
}
