import Foundation

/// What `steadfast cluster status --json` prints (docs/chaos.md names the fields used).
public struct ClusterStatus: Codable, Sendable, Equatable {
    public struct Admin: Codable, Sendable, Equatable {
        public var email: String
        public var password: String
    }

    public struct Component: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var role: String?
        public var address: String?
        public var health: String
        public var pid: Int32?
        public var lagBytes: Int64?

        public init(name: String, kind: String, role: String? = nil, address: String? = nil, health: String, pid: Int32? = nil, lagBytes: Int64? = nil) {
            self.name = name
            self.kind = kind
            self.role = role
            self.address = address
            self.health = health
            self.pid = pid
            self.lagBytes = lagBytes
        }
    }

    public var directory: String
    public var url: String
    public var admin: Admin
    public var topology: String
    public var db: String
    public var sticky: Bool
    public var components: [Component]

    public func component(_ name: String) -> Component? { components.first { $0.name == name } }

    public static func decode(_ data: Data) throws -> ClusterStatus {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(ClusterStatus.self, from: data)
        } catch {
            throw ChaosError("cluster status --json printed something unexpected (\(error)): \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
    }
}

/// An error of the chaos command, with a message for the operator.
public struct ChaosError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
