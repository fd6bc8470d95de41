import Foundation
import SteadfastDomain
import SteadfastServices

/// Turns money, dates and billing objects into what the Mustache templates read (every
/// feature's pages: billing, jobs, the overview).
enum PageValues {
    static func money(_ money: Money) -> String { money.formatted }

    static func money(_ minor: Int64, _ currency: Currency) -> String { Money(minorUnits: minor, currency: currency).formatted }

    static func date(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day())
    }

    /// A moment for people: `2026-12-05 18:00:00 UTC`.
    static func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }

    /// A fresh key for a money-moving form: a double-click submits the same key.
    static func newKey() -> String { UUID().uuidString.lowercased() }

    static func invoiceRow(_ invoice: Invoice, base: String) -> [String: Any] {
        [
            "id": invoice.id.text, "href": base + "/" + invoice.id.text, "number": invoice.number ?? "draft", "issued": invoice.issueDate?.iso ?? "—",
            "due": invoice.dueDate.iso, "status": invoice.status.rawValue, "total": money(invoice.total), "balance": money(invoice.balanceDue),
            "badge": Badge.values(invoice.status.rawValue), "clientID": invoice.clientID.text,
        ]
    }

    static func invoice(_ invoice: Invoice) -> [String: Any] {
        [
            "id": invoice.id.text, "number": invoice.number ?? "(draft)", "status": invoice.status.rawValue, "issued": invoice.issueDate?.iso ?? "—",
            "due": invoice.dueDate.iso, "currency": invoice.currency.code, "clientID": invoice.clientID.text,
            "lines": invoice.lines.map { line -> [String: Any] in
                ["description": line.description, "net": money(line.amounts.net), "tax": money(line.amounts.tax), "gross": money(line.amounts.gross)]
            },
            "subtotal": money(invoice.subtotal), "tax": money(invoice.tax), "total": money(invoice.total), "paid": money(invoice.amountPaid),
            "received": money(invoice.amountReceived), "refunded": money(invoice.amountRefunded.negated), "hasRefunds": invoice.amountRefunded.isPositive,
            "pdf": "/api/v1/invoices/\(invoice.id.text)/pdf", "staffPDF": "/api/v1/admin/invoices/\(invoice.id.text)/pdf",
            "balance": money(invoice.balanceDue), "balanceDecimal": invoice.balanceDue.decimalString,
            "taxLabel": invoice.taxName.map { "\($0) \(invoice.taxRate?.percentString ?? "")" } ?? "Tax",
            "payable": invoice.status.isPayable, "draft": invoice.status == .draft, "badge": Badge.values(invoice.status.rawValue),
        ]
    }

    static func payment(_ payment: Payment) -> [String: Any] {
        [
            "id": payment.id.text, "invoiceID": payment.invoiceID.text, "date": date(payment.createdAt), "gateway": payment.gateway,
            "kind": payment.kind.rawValue, "amount": money(payment.signedAmount), "number": payment.documentNumber ?? "",
            "reference": payment.transactionID ?? "",
            "refundable": payment.kind == .payment, "key": newKey(), "badge": Badge.values(payment.kind.rawValue),
        ]
    }

    static func service(_ service: ClientService) -> [String: Any] {
        var values: [String: Any] = [
            "id": service.id.text, "clientID": service.clientID.text, "description": service.description, "cycle": service.cycle.label,
            "status": service.status.rawValue, "price": money(service.recurring),
            "due": service.nextDueDate?.iso ?? "—", "registered": service.registrationDate.iso, "badge": Badge.values(service.status.rawValue),
        ]
        values["reason"] = service.suspensionReason?.rawValue
        return values
    }

    static func order(_ order: Order) -> [String: Any] {
        var values: [String: Any] = [
            "id": order.id.text, "short": String(order.id.text.prefix(8)), "clientID": order.clientID.text, "status": order.status.rawValue,
            "date": order.orderDate.iso, "pending": order.status == .pending, "badge": Badge.values(order.status.rawValue),
            "summary": order.items.map(\.description).joined(separator: ", "),
            "items": order.items.map { item -> [String: Any] in
                ["description": item.description, "cycle": item.cycle.label, "recurring": money(item.recurring), "setup": money(item.setupFee)]
            },
        ]
        values["invoiceID"] = order.invoiceID?.text
        return values
    }
}
