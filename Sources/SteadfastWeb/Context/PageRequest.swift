import Hummingbird

/// A bad query-string parameter: 400 with the parameter named in the error's `field`.
struct InvalidParameter: Error, Sendable {
    let name: String
    let message: String
}

/// `limit` and `offset` of a list request, parsed into bounds so that no arithmetic on them
/// (the next page's offset, `LIMIT`/`OFFSET` binds) can overflow.
///
/// Absent parameters take their defaults; a `limit` above the maximum is lowered to it (a client
/// asking for "everything" gets the largest page); anything that is not a whole number in range
/// is a 400 naming the parameter, never a trap.
struct PageRequest: Sendable, Equatable {
    /// The largest `offset` accepted: far beyond any list a node serves, far below overflow.
    static let maxOffset = 1_000_000_000

    let limit: Int
    let offset: Int

    /// The offset of the page after this one.
    var nextOffset: Int { offset + limit }

    init(limit: String?, offset: String?, defaultLimit: Int = 50, maxLimit: Int = 200) throws(InvalidParameter) {
        if let limit {
            guard let value = Int(limit), value >= 1 else {
                throw InvalidParameter(name: "limit", message: "limit must be a whole number from 1 to \(maxLimit)")
            }
            self.limit = min(value, maxLimit)
        } else {
            self.limit = defaultLimit
        }
        if let offset {
            guard let value = Int(offset), (0...Self.maxOffset).contains(value) else {
                throw InvalidParameter(name: "offset", message: "offset must be a whole number from 0 to \(Self.maxOffset)")
            }
            self.offset = value
        } else {
            self.offset = 0
        }
    }

    /// The page named by `request`'s query string.
    init(_ request: Request, defaultLimit: Int = 50, maxLimit: Int = 200) throws(InvalidParameter) {
        let query = request.uri.queryParameters
        try self.init(limit: query.get("limit"), offset: query.get("offset"), defaultLimit: defaultLimit, maxLimit: maxLimit)
    }
}
