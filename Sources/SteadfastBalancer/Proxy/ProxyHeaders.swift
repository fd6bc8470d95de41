import NIOHTTP1

/// Rewrites heads as they cross the proxy: removes hop-by-hop fields (RFC 9110 §7.6.1) and adds
/// `X-Forwarded-For`, `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Request-ID`. Pure functions,
/// tested without sockets.
enum ProxyHeaders {
    /// Fields that only describe one connection and never cross a proxy.
    static let hopByHop: [String] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Whether `name` is one of ``hopByHop``, compared case-insensitively without allocating.
    static func isHopByHop(_ name: String) -> Bool {
        let candidates: [String]
        switch name.utf8.count {
        case 2: candidates = ["te"]
        case 7: candidates = ["trailer", "upgrade"]
        case 10: candidates = ["connection", "keep-alive"]
        case 16: candidates = ["proxy-connection"]
        case 17: candidates = ["transfer-encoding"]
        default: return false
        }
        return candidates.contains { candidate in
            name.utf8.elementsEqual(candidate.utf8) { ($0 | 0x20) == $1 }
        }
    }

    /// Removes the hop-by-hop fields and every field the `Connection` header names.
    static func removeHopByHop(_ headers: inout HTTPHeaders) {
        // Most requests carry none: one cheap scan instead of a removal pass per name.
        guard headers.contains(where: { isHopByHop($0.name) }) else { return }
        for token in headers[canonicalForm: "connection"] {
            let name = token.lowercased()
            if name != "close" && name != "keep-alive" { headers.remove(name: String(name)) }
        }
        for name in hopByHop { headers.remove(name: name) }
    }

    /// The head sent to a backend for a client's `head`.
    static func forwardRequest(_ head: HTTPRequestHead, clientIP: String?, scheme: String, requestID: String) -> HTTPRequestHead {
        var headers = head.headers
        let chunked = headers[canonicalForm: "transfer-encoding"].last?.lowercased() == "chunked"
        removeHopByHop(&headers)
        if chunked {
            headers.add(name: "transfer-encoding", value: "chunked")
        } else if !headers.contains(name: "content-length") && [.POST, .PUT, .PATCH].contains(head.method) {
            headers.add(name: "content-length", value: "0")
        }
        if let clientIP {
            let previous = headers["x-forwarded-for"].joined(separator: ", ")
            headers.replaceOrAdd(name: "x-forwarded-for", value: previous.isEmpty ? clientIP : "\(previous), \(clientIP)")
        }
        headers.replaceOrAdd(name: "x-forwarded-proto", value: scheme)
        if let host = headers.first(name: "host") {
            headers.replaceOrAdd(name: "x-forwarded-host", value: host)
        }
        headers.replaceOrAdd(name: "x-request-id", value: requestID)
        return HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers)
    }

    /// A client-supplied request id is kept when it is short and plain; otherwise a new one is used.
    static func requestID(from head: HTTPRequestHead, generate: () -> String) -> String {
        if let given = head.headers.first(name: "x-request-id"), !given.isEmpty, given.utf8.count <= 128,
            given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return given
        }
        return generate()
    }

    /// The head sent to the client for a backend's `head`.
    static func forwardResponse(
        _ head: HTTPResponseHead,
        clientVersion: HTTPVersion,
        keepAlive: Bool,
        setCookie: String?
    ) -> HTTPResponseHead {
        var headers = head.headers
        let chunked = headers[canonicalForm: "transfer-encoding"].last?.lowercased() == "chunked"
        removeHopByHop(&headers)
        if chunked && clientVersion != .http1_0 && !headers.contains(name: "content-length") {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        } else if clientVersion == .http1_0 {
            headers.add(name: "connection", value: "keep-alive")
        }
        if let setCookie { headers.add(name: "set-cookie", value: setCookie) }
        return HTTPResponseHead(version: clientVersion, status: head.status, headers: headers)
    }

    /// The value of cookie `name` in the request's `Cookie` headers, if present.
    static func cookie(named name: String, in headers: HTTPHeaders) -> String? {
        for header in headers["cookie"] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                guard let equals = trimmed.firstIndex(of: "=") else { continue }
                if trimmed[..<equals] == name { return String(trimmed[trimmed.index(after: equals)...]) }
            }
        }
        return nil
    }
}
