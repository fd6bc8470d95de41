/// Migration 210: invoices as documents and the billing edge cases of issue 16 (docs/billing.md).
///
/// - `invoices.amount_refunded`: refunds kept beside the net `amount_paid`, so an invoice shows
///   received, refunded and balance due (total − received + refunded); filled from the refund
///   rows already recorded.
/// - `invoices.seller`, `invoices.buyer`: the parties (JSON `InvoiceParty`) copied when the
///   invoice is issued; NULL on invoices issued before, whose pages fall back to today's details.
/// - `billing_profiles.legal_name`, `address`, `tax_id`: what the buyer copy is made from.
/// - `payments.document_number`: the refund's or credit note's own gap-free number (unique).
/// - `invoice_late_fees.fee_invoice_id`: the separate invoice a late fee is billed on (NULL for
///   fees added as a line before this migration).
///
/// Migration 211: `visitor_cart_items`, the carts of visitors without an account, keyed by the
/// SHA-256 of the visitor's cart cookie (never the cookie itself), moved into the account's
/// `cart_items` at log-in or registration.
public enum BillingDocumentMigrations {
    public static let all: [Migration] = [
        Migration(version: 210, name: "billing: invoices as documents, refund numbers, late-fee invoices") { d in
            [
                "ALTER TABLE invoices ADD COLUMN amount_refunded \(d.bigintType) NOT NULL DEFAULT 0",
                "ALTER TABLE invoices ADD COLUMN seller TEXT",
                "ALTER TABLE invoices ADD COLUMN buyer TEXT",
                """
                UPDATE invoices SET amount_refunded = COALESCE(
                    (SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = invoices.id AND p.kind = 'refund'), 0)
                """,
                "ALTER TABLE billing_profiles ADD COLUMN legal_name TEXT",
                "ALTER TABLE billing_profiles ADD COLUMN address TEXT",
                "ALTER TABLE billing_profiles ADD COLUMN tax_id TEXT",
                "ALTER TABLE payments ADD COLUMN document_number TEXT",
                "CREATE UNIQUE INDEX payments_document_number ON payments (document_number)",
                "ALTER TABLE invoice_late_fees ADD COLUMN fee_invoice_id \(d.uuidType)",
                "CREATE INDEX invoice_late_fees_fee_invoice ON invoice_late_fees (fee_invoice_id)",
            ]
        },
        Migration(version: 211, name: "billing: visitors' carts") { d in
            [
                """
                CREATE TABLE visitor_cart_items (
                    id \(d.uuidType) PRIMARY KEY,
                    cart_hash TEXT NOT NULL,
                    product_id \(d.uuidType) NOT NULL REFERENCES products(id),
                    cycle TEXT NOT NULL,
                    selections TEXT NOT NULL,
                    created_at \(d.timestampType) NOT NULL
                )
                """,
                "CREATE INDEX visitor_cart_items_cart ON visitor_cart_items (cart_hash, created_at)",
                "CREATE INDEX visitor_cart_items_created ON visitor_cart_items (created_at)",
            ]
        },
    ]
}
