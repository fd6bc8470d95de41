import Foundation

/// Prices invoice lines and sums them: tax is computed and rounded per line
/// (``LineAmounts``), then the invoice's subtotal, tax and total are the sums of its lines.
public struct InvoiceCalculator: Sendable {
    public let rule: TaxRule?
    public let mode: TaxMode

    public init(rule: TaxRule?, mode: TaxMode) {
        self.rule = rule
        self.mode = mode
    }

    /// The invoice's totals.
    public struct Totals: Sendable, Hashable {
        public let subtotal: Money
        public let tax: Money
        public let total: Money
    }

    /// Lines for `drafts`, numbered from `firstPosition`.
    public func lines(_ drafts: [InvoiceLineDraft], firstPosition: Int = 1, makeID: () -> UUID = UUID.init) throws(BillingError) -> [InvoiceLine] {
        var result: [InvoiceLine] = []
        for (offset, draft) in drafts.enumerated() {
            let amounts = try LineAmounts.compute(price: draft.price, rate: draft.taxable ? rule?.rate : nil, mode: mode)
            result.append(InvoiceLine(
                id: makeID(), position: firstPosition + offset, kind: draft.kind, description: draft.description, serviceID: draft.serviceID,
                amounts: amounts, taxable: draft.taxable, periodStart: draft.periodStart, periodEnd: draft.periodEnd
            ))
        }
        return result
    }

    /// Sums of the lines' (already rounded) amounts.
    public static func totals(_ lines: [InvoiceLine], currency: Currency) throws(BillingError) -> Totals {
        Totals(
            subtotal: try Money.sum(lines.map(\.amounts.net), currency: currency),
            tax: try Money.sum(lines.map(\.amounts.tax), currency: currency),
            total: try Money.sum(lines.map(\.amounts.gross), currency: currency)
        )
    }
}
