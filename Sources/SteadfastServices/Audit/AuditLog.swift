import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Reading the audit trail: staff search it, a client reads their own security events.
public struct AuditLog: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) {
        self.database = database
    }

    /// Events by `actor` (an account or token id, a job name, `job`, `system`) and `object`
    /// (a type, `type:id`, or an id), newest first. Staff only (the caller checks).
    public func events(actor: String?, object: String?, sort: ListSort? = nil, limit: Int, offset: Int) async throws -> [AuditEventRepository.Event] {
        let clean = { (text: String?) in text.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) } }
        return try await AuditEventRepository(database).list(.init(actor: clean(actor), object: clean(object)), sort: sort, limit: limit, offset: offset)
    }

    /// The account's own security events (log-ins, password, e-mail and two-factor changes), newest first.
    public func securityEvents(accountID: UUID, limit: Int, offset: Int = 0) async throws -> [AuditEventRepository.Event] {
        try await AuditEventRepository(database).list(
            .init(accountID: accountID, actions: AuditAction.securityEvents.map(\.rawValue)), limit: limit, offset: offset
        )
    }
}

extension AccountService {
    /// The account's own security events (what its account page lists).
    public func securityEvents(accountID: UUID, limit: Int) async throws -> [AuditEventRepository.Event] {
        try await AuditLog(database: database).securityEvents(accountID: accountID, limit: limit)
    }
}
