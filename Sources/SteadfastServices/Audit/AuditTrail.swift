import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Where a change came from: who, from which address, on which node, in which request. The
/// node binds it for the length of a request (after authentication) or a job run, so the
/// services record it without every use case taking it as a parameter.
public struct AuditOrigin: Sendable, Equatable {
    public var actor: AuditActor
    public var ip: String?
    public var nodeID: String
    public var requestID: String?

    public init(actor: AuditActor, ip: String? = nil, nodeID: String, requestID: String? = nil) {
        self.actor = actor
        self.ip = ip
        self.nodeID = nodeID
        self.requestID = requestID
    }

    /// Outside any request or job (a tool, a test): the system, on no named node.
    public static let unattributed = AuditOrigin(actor: .system, nodeID: "unknown")
}

/// The audit trail (docs/accounts.md): one append-only `audit_events` row per state change,
/// written by ``record(_:_:object:before:after:amounts:actor:account:now:)`` inside the
/// transaction that makes the change — like `MailOutbox.enqueue` — so the event commits or rolls
/// back with it: a failed change leaves no event, and no change is left without one.
///
/// ```swift
/// try await database.transaction { tx in
///     try await InvoiceRepository(tx).update(invoice)                          // the change
///     try await AuditTrail.record(tx, .invoiceIssued, object: AuditObject("invoice", invoice.id),
///         before: ["status": "draft"], after: ["status": "unpaid"], amounts: ["total": invoice.total], now: now)
/// }
/// ```
public enum AuditTrail {
    /// The origin of the changes made by the current task (bound by the node per request and job).
    @TaskLocal public static var origin: AuditOrigin = .unattributed

    /// Writes one event through `tx` (a caller's open transaction). `before` and `after` name
    /// the changed fields; keys whose values are equal in both are left out. `actor` replaces
    /// the origin's (a log-in or a reset acts for an account before anyone is logged in);
    /// `account` is the account the event concerns, by default the actor's.
    public static func record(
        _ tx: any SQLExecutor, _ action: AuditAction, object: AuditObject, before: [String: String] = [:], after: [String: String] = [:],
        amounts: [String: Money] = [:], actor: AuditActor? = nil, account: UUID? = nil, now: Date
    ) async throws {
        let origin = Self.origin
        let who = actor ?? origin.actor
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
        let changes = try json(["before": before.filter { changed.contains($0.key) }, "after": after.filter { changed.contains($0.key) }])
        let money = try json(amounts.mapValues { AmountJSON(minorUnits: $0.minorUnits, currency: $0.currency.code) })
        try await AuditEventRepository(tx).insert(.init(
            id: UUID(), occurredAt: now, actor: who, action: action.rawValue, object: object, accountID: account ?? who.accountID,
            changes: changes, amounts: money, ip: origin.ip, nodeID: origin.nodeID, requestID: origin.requestID
        ))
    }

    struct AmountJSON: Encodable {
        let minorUnits: Int64
        let currency: String

        enum CodingKeys: String, CodingKey {
            case minorUnits = "minor_units", currency
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
