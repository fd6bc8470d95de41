#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `::1/128`); a bare address is a /32 or /128.
/// Used for the trusted-proxy list.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// Address bytes (4 for IPv4, 16 for IPv6), with host bits cleared.
    public let address: [UInt8]
    public let prefixLength: Int

    public init(_ text: String) throws(ConfigError) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.parseAddress(first) else {
            throw ConfigError(key: "http.trusted_proxies", message: "'\(text)' is not an IP address or CIDR block")
        }
        let maxPrefix = bytes.count * 8
        var prefix = maxPrefix
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...maxPrefix).contains(p) else {
                throw ConfigError(key: "http.trusted_proxies", message: "'\(text)' has an invalid prefix length (0-\(maxPrefix))")
            }
            prefix = p
        }
        self.prefixLength = prefix
        self.address = Self.mask(bytes, prefix: prefix)
    }

    /// Whether `addressText` (an IPv4, IPv6 or IPv4-mapped IPv6 address) lies in this network.
    public func contains(_ addressText: String) -> Bool {
        guard var bytes = Self.parseAddress(addressText) else { return false }
        if address.count == 4, bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = Array(bytes[12...])
        }
        guard bytes.count == address.count else { return false }
        return Self.mask(bytes, prefix: prefixLength) == address
    }

    public var description: String {
        let text: String
        if address.count == 4 {
            text = address.map(String.init).joined(separator: ".")
        } else {
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: address) }
            inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
            text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return "\(text)/\(prefixLength)"
    }

    /// Parses a textual IPv4 or IPv6 address into network-order bytes.
    public static func parseAddress(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let percent = text.firstIndex(of: "%") { text = String(text[..<percent]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    private static func mask(_ bytes: [UInt8], prefix: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bitsBefore = index * 8
            if prefix >= bitsBefore + 8 { return byte }
            if prefix <= bitsBefore { return 0 }
            return byte & ~(UInt8(0xFF) >> UInt8(prefix - bitsBefore))
        }
    }
}
