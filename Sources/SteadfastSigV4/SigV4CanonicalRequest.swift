/// The canonical request of Signature Version 4: the exact text whose hash is signed.
///
/// Built from the request as it goes on the wire, so a test can compare each part with AWS's
/// published examples or with botocore.
public struct SigV4CanonicalRequest: Sendable, Hashable {
    /// Uppercase HTTP method.
    public let method: String
    /// The encoded path (`/` when empty).
    public let uri: String
    /// Query parameters, each encoded, sorted by name then value, joined by `&`.
    public let query: String
    /// Lowercase `name:value` lines, sorted, each ending with a newline.
    public let headers: String
    /// The signed header names, lowercase, sorted, joined by `;`.
    public let signedHeaders: String
    /// The payload line: a SHA-256 in hex or `UNSIGNED-PAYLOAD`.
    public let payload: String

    /// The six parts joined as AWS specifies.
    public var text: String {
        [method, uri, query, headers, signedHeaders, payload].joined(separator: "\n")
    }

    /// Builds the canonical request.
    /// - Parameters:
    ///   - percentEncodedPath: the path exactly as it will be sent.
    ///   - percentEncodedQuery: the query exactly as it will be sent (without `?`), if any.
    ///   - headers: the headers to sign (names in any case).
    ///   - doubleEncodePath: `false` for S3 (the wire path is used as is, after SigV4
    ///     normalisation of its encoding), `true` for every other service (the path is
    ///     normalised then encoded a second time).
    public init(
        method: String,
        percentEncodedPath: String,
        percentEncodedQuery: String?,
        headers: [SigV4Header],
        payload: SigV4Payload,
        doubleEncodePath: Bool
    ) {
        self.method = method.uppercased()
        self.uri = Self.canonicalURI(percentEncodedPath, doubleEncode: doubleEncodePath)
        self.query = Self.canonicalQuery(percentEncodedQuery)
        let (lines, names) = Self.canonicalHeaders(headers)
        self.headers = lines
        self.signedHeaders = names
        self.payload = payload.canonicalValue
    }

    /// The canonical URI. S3: each segment decoded and re-encoded the SigV4 way (the same as
    /// the wire path when that is encoded the SigV4 way, as ``SigV4URIEncoding`` does). Other
    /// services: the wire path with empty and dot segments removed (RFC 3986), encoded again.
    static func canonicalURI(_ path: String, doubleEncode: Bool) -> String {
        let path = path.isEmpty ? "/" : path
        guard doubleEncode else {
            return path.split(separator: "/", omittingEmptySubsequences: false)
                .map { SigV4URIEncoding.encode(SigV4URIEncoding.decode(String($0))) }
                .joined(separator: "/")
        }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty || segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return SigV4URIEncoding.encode(first + output.joined(separator: "/") + last, keepSlash: true)
    }

    /// The canonical query: `name=value` pairs re-encoded, sorted by name then by value.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for item in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = item.firstIndex(of: "=") {
                name = item[..<equals]
                value = item[item.index(after: equals)...]
            } else {
                name = item
                value = ""
            }
            pairs.append((
                SigV4URIEncoding.encode(SigV4URIEncoding.decode(String(name))),
                SigV4URIEncoding.encode(SigV4URIEncoding.decode(String(value)))
            ))
        }
        pairs.sort { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        return pairs.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The canonical header block and the signed-header list. Values are trimmed and inner
    /// runs of whitespace collapsed to one space; repeated names are joined with `,`.
    static func canonicalHeaders(_ headers: [SigV4Header]) -> (lines: String, names: String) {
        var byName: [String: [String]] = [:]
        for header in headers {
            let value = header.value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                .joined(separator: " ")
            byName[header.name.lowercased(), default: []].append(value)
        }
        let names = byName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var lines = ""
        for name in names {
            lines += name + ":" + byName[name]!.joined(separator: ",") + "\n"
        }
        return (lines, names.joined(separator: ";"))
    }
}
