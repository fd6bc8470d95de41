@testable import SteadfastWeb
import SteadfastPersistence
import Testing

/// The one sort grammar of the staff lists, `?sort=<column>&dir=asc|desc` (``ListSorting``):
/// a column or direction the list does not offer is a 400 naming the parameter and the choices.
@Suite("Sort grammar")
struct ListSortingTests {
    let columns = InvoiceRepository.sortColumns

    @Test func absentPartsTakeTheDefaults() throws {
        #expect(try ListSorting.parse(sort: nil, dir: nil, columns: columns) == columns.defaultSort)
        #expect(try ListSorting.parse(sort: "", dir: "", columns: columns) == columns.defaultSort)
        // A column alone: its first direction (amounts largest first, names A–Z).
        #expect(try ListSorting.parse(sort: "total", dir: nil, columns: columns) == ListSort("total", .desc))
        #expect(try ListSorting.parse(sort: "client", dir: nil, columns: columns) == ListSort("client", .asc))
        #expect(try ListSorting.parse(sort: "client", dir: "desc", columns: columns) == ListSort("client", .desc))
        // A direction alone turns the default order round.
        #expect(try ListSorting.parse(sort: nil, dir: "asc", columns: columns) == ListSort("created", .asc))
    }

    @Test func anythingElseIsA400NamingTheParameter() {
        for (sort, dir, name) in [("amount", nil, "sort"), ("total; DROP TABLE invoices", "asc", "sort"), ("CLIENT", nil, "sort"),
                                  ("client", "up", "dir"), ("client", "ASC", "dir")] as [(String, String?, String)] {
            do {
                _ = try ListSorting.parse(sort: sort, dir: dir, columns: columns)
                Issue.record("\(sort) \(dir ?? "") was accepted")
            } catch {
                #expect(error.name == name)
                if name == "sort" { #expect(error.message.contains("number, issued, client, status, due, total, balance")) }
            }
        }
    }

    @Test func headingsLinkTheOtherDirectionAndMarkTheCurrentOrder() throws {
        let sort = ListSort("client", .asc)
        let current = ListSorting.column("Client", key: "client", sort: sort, columns: columns, path: "/admin/invoices", query: ["status": "unpaid", "offset": "50"])
        #expect(current["ariaSort"] as? String == "ascending")
        #expect(current["href"] as? String == "/admin/invoices?status=unpaid&sort=client&dir=desc")
        let other = ListSorting.column("Total", key: "total", numeric: true, sort: sort, columns: columns, path: "/admin/invoices", query: [:])
        #expect(other["ariaSort"] == nil && other["href"] as? String == "/admin/invoices?sort=total&dir=desc")
        let plain = ListSorting.column("Actions", sort: sort, columns: columns, path: "/admin/invoices", query: [:])
        #expect(plain["sortable"] as? Bool == false && plain["href"] == nil)
        // Pagination keeps the order (and nothing for the default one).
        #expect(ListSorting.query(sort, columns: columns) == ["sort": "client", "dir": "asc"])
        #expect(ListSorting.query(columns.defaultSort, columns: columns).isEmpty)
    }
}

/// The per-node limit on invoice PDF renderings (`billing.pdf_concurrency`): the pure queue.
@Suite("Render permits")
struct RenderPermitsTests {
    @Test func permitsAreHandedOverInOrderAndCancelledWaitersLeave() {
        var queue = PermitQueue<String>(limit: 2)
        let t1 = queue.makeTicket(), t2 = queue.makeTicket(), t3 = queue.makeTicket(), t4 = queue.makeTicket()
        let first = queue.acquire(ticket: t1, waiter: "a"), second = queue.acquire(ticket: t2, waiter: "b")
        let third = queue.acquire(ticket: t3, waiter: "c"), fourth = queue.acquire(ticket: t4, waiter: "d")
        #expect(first == .granted && second == .granted && third == .wait && fourth == .wait)
        #expect(queue.inUse == 2 && queue.waiting.count == 2)
        let cancelled = queue.cancel(ticket: t3)           // c gave up waiting
        #expect(cancelled == "c")
        let handedOver = queue.release()                   // a's permit goes straight to d
        #expect(handedOver == "d" && queue.inUse == 2)
        let freed = [queue.release(), queue.release()]
        #expect(freed == [nil, nil] && queue.inUse == 0)
        // A cancellation that comes before the waiter queues is not lost.
        let t5 = queue.makeTicket()
        let early = queue.cancel(ticket: t5)
        let late = queue.acquire(ticket: t5, waiter: "e")
        #expect(early == nil && late == .cancelled && queue.inUse == 0)
        // Cancelling after the permit was granted changes nothing.
        let t6 = queue.makeTicket()
        let granted = queue.acquire(ticket: t6, waiter: "f")
        let none = queue.cancel(ticket: t6)
        #expect(granted == .granted && none == nil && queue.inUse == 1)
    }

    @Test func noMoreThanTheLimitRunAtOnce() async throws {
        let permits = RenderPermits(limit: 2)
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    try await permits.withPermit {
                        // Give the others every chance to get in meanwhile (no real sleep).
                        for _ in 0..<200 { await Task.yield() }
                        return permits.inUse
                    }
                }
            }
            var most = 0
            for try await running in group { most = max(most, running) }
            #expect(most <= 2 && most >= 1)
        }
        #expect(permits.inUse == 0 && permits.waiting == 0)
    }
}
