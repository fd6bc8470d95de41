import Crypto
import Foundation

/// Reads back, through the API and the staff API, what the audit compares with the load's
/// acknowledgements: every payment and invoice (staff), every visitor's files (downloaded in
/// full) and whether each visitor's session still works. Each read is tried three times a
/// second apart, so a cluster still settling after the fault is not mistaken for lost data.
struct ClusterReader {
    var staff: ChaosSession
    let pageSize = 200
    /// Never read more than this many rows of one list (the load makes far fewer).
    let maximumRows = 100_000

    mutating func fill(_ input: inout AuditInput, visitors: [Visitor], workedBefore: [Int: Bool]) async {
        do {
            input.storedPayments = try await list("/api/v1/admin/payments", session: &staff).map {
                .init(id: $0["id"] as? String ?? "", invoiceID: $0["invoice_id"] as? String ?? "", kind: $0["kind"] as? String ?? "")
            }
        } catch { input.readErrors.append("payments: \(error)") }
        do {
            input.storedInvoices = try await list("/api/v1/admin/invoices", session: &staff).map {
                .init(invoiceID: $0["id"] as? String ?? "", number: $0["number"] as? String)
            }
        } catch { input.readErrors.append("invoices: \(error)") }
        for visitor in visitors {
            var session = visitor.session
            let me = try? await attempt { try await session.send(.GET, "/api/v1/me") }
            input.sessions.append(.init(
                visitor: visitor.index, workedBeforeFault: workedBefore[visitor.index] ?? false,
                worksAfter: me.map { $0.status == 200 }, detail: me.map { "GET /api/v1/me answered \($0.status)" } ?? "GET /api/v1/me got no answer"
            ))
            do {
                for file in try await list("/api/v1/files", session: &session, key: "files") {
                    guard let id = file["id"] as? String, let name = file["filename"] as? String else { continue }
                    let size = (file["size"] as? NSNumber)?.intValue ?? -1
                    do {
                        let content = try await attempt { try await session.send(.GET, "/api/v1/files/\(id)/content") }
                        if content.status == 200 {
                            input.storedFiles.append(.init(id: id, filename: name, sha256: Visitor.sha256(content.body), size: content.body.count))
                        } else {
                            input.storedFiles.append(.init(id: id, filename: name, sha256: nil, size: size, downloadError: "status \(content.status)"))
                        }
                    } catch {
                        input.storedFiles.append(.init(id: id, filename: name, sha256: nil, size: size, downloadError: "\(error)"))
                    }
                }
            } catch { input.readErrors.append("visitor \(visitor.index)'s files: \(error)") }
        }
    }

    /// Every item of a paged list, following offsets.
    func list(_ path: String, session: inout ChaosSession, key: String = "items") async throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        while items.count < maximumRows {
            let page = "\(path)?limit=\(pageSize)&offset=\(items.count)"
            var copy = session
            let answer = try await attempt { try await copy.send(.GET, page) }
            session = copy
            guard answer.status == 200 else { throw ChaosError("GET \(page) answered \(answer.status): \(String(decoding: answer.body.prefix(200), as: UTF8.self))") }
            let batch = answer.json[key] as? [[String: Any]] ?? []
            items += batch
            if batch.count < pageSize { break }
        }
        return items
    }

    /// Up to three tries while there is no answer or a 5xx.
    func attempt(_ body: () async throws -> ChaosAnswer) async throws -> ChaosAnswer {
        var last: (any Error)?
        for round in 0..<3 {
            if round > 0 { try? await Task.sleep(for: .seconds(1)) }
            do {
                let answer = try await body()
                if answer.status < 500 || round == 2 { return answer }
            } catch {
                last = error
            }
        }
        throw last ?? ChaosError("no answer")
    }
}
