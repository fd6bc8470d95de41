import HummingbirdBcrypt
import NIOPosix

/// Hashes and checks passwords with bcrypt, off the event loops and the cooperative thread pool
/// (a cost-12 hash takes about a quarter of a second of CPU).
public struct PasswordHasher: Sendable {
    /// bcrypt work factor (4-31).
    public let cost: UInt8

    public init(cost: Int) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4-31")
        self.cost = UInt8(cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
