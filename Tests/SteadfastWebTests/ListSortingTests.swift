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
