/// How issued invoices are numbered, e.g. `INV-{YYYY}-{SEQ:6}` → `INV-2026-000123`.
///
/// Tokens: `{YYYY}` (year), `{YY}`, `{MM}` (month), and exactly one `{SEQ}` or `{SEQ:n}` (the
/// counter, zero-padded to `n` digits). The counter belongs to the *sequence key* — the format
/// with its date tokens filled in — so `INV-{YYYY}-{SEQ:6}` starts again at 1 every year while
/// `INV-{SEQ}` counts forever. Numbers are only given when an invoice is issued, in the same
/// transaction, so they are gap-free (see `InvoiceNumberRepository`).
public struct InvoiceNumberFormat: Sendable, Hashable {
    public let template: String
    let padding: Int

    public static let standard = try! InvoiceNumberFormat("INV-{YYYY}-{SEQ:6}")

    public init(_ template: String) throws(BillingError) {
        let allowedLiteral: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber || "-_/.#".contains($0)) }
        var padding: Int?
        var rest = Substring(template)
        while !rest.isEmpty {
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else { throw Self.bad(template) }
                let token = rest[rest.index(after: rest.startIndex)..<close]
                switch token {
                case "YYYY", "YY", "MM": break
                case "SEQ": if padding != nil { throw Self.bad(template) }; padding = 1
                case _ where token.hasPrefix("SEQ:"):
                    guard padding == nil, let n = Int(token.dropFirst(4)), (1...12).contains(n) else { throw Self.bad(template) }
                    padding = n
                default: throw Self.bad(template)
                }
                rest = rest[rest.index(after: close)...]
            } else {
                guard allowedLiteral(rest.first!) else { throw Self.bad(template) }
                rest = rest.dropFirst()
            }
        }
        guard let padding, template.count <= 40 else { throw Self.bad(template) }
        self.template = template
        self.padding = padding
    }

    private static func bad(_ template: String) -> BillingError {
        .invalid("invoice number format '\(template)' must contain one {SEQ} or {SEQ:n} and otherwise only letters, digits, - _ / . # and {YYYY} {YY} {MM}", field: "invoice_number_format")
    }

    /// The counter key for invoices issued on `date`.
    public func sequenceKey(for date: BillingDate) -> String {
        expand(date: date, sequence: nil)
    }

    /// The number of the `sequence`-th invoice issued on `date` (in its sequence).
    public func render(sequence: Int64, date: BillingDate) -> String {
        expand(date: date, sequence: sequence)
    }

    private func expand(date: BillingDate, sequence: Int64?) -> String {
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var result = ""
        var rest = Substring(template)
        while !rest.isEmpty {
            if rest.first == "{", let close = rest.firstIndex(of: "}") {
                let token = rest[rest.index(after: rest.startIndex)..<close]
                switch token {
                case "YYYY": result += pad(Int64(date.year), 4)
                case "YY": result += pad(Int64(date.year % 100), 2)
                case "MM": result += pad(Int64(date.month), 2)
                default: result += sequence.map { pad($0, padding) } ?? "{SEQ}"
                }
                rest = rest[rest.index(after: close)...]
            } else {
                result.append(rest.first!)
                rest = rest.dropFirst()
            }
        }
        return result
    }
}
