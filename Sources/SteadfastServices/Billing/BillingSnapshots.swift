import Foundation
import SteadfastDomain
import SteadfastPersistence

/// Formats instants as ISO 8601 text (UTC, whole seconds) for stored and sent JSON.
enum Timestamp {
    static func iso(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!))
    }
}

/// The answer to a request that may be retried. Everything an idempotent operation returns is
/// one of these snapshots, encoded once to JSON and stored with its key, so a replay answers
/// with exactly the same bytes as the original.
public struct InvoiceState: Codable, Sendable, Equatable {
    public let id: String
    public let number: String?
    public let status: String
    public let currency: String
    public let total: Int64
    public let amountPaid: Int64
    public let balanceDue: Int64
    public let dueDate: String

    enum CodingKeys: String, CodingKey {
        case id, number, status, currency, total
        case amountPaid = "amount_paid"
        case balanceDue = "balance_due"
        case dueDate = "due_date"
    }

    public init(_ invoice: Invoice) {
        id = invoice.id.uuidString.lowercased()
        number = invoice.number
        status = invoice.status.rawValue
        currency = invoice.currency.code
        total = invoice.total.minorUnits
        amountPaid = invoice.amountPaid.minorUnits
        balanceDue = invoice.balanceDue.minorUnits
        dueDate = invoice.dueDate.iso
    }
}

/// A payment or refund as the API shows it.
public struct PaymentRecord: Codable, Sendable, Equatable {
    public let id: String
    public let invoiceID: String
    public let kind: String
    public let gateway: String
    public let amount: Int64
    public let currency: String
    public let transactionID: String?
    public let refundOf: String?
    public let createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, kind, gateway, amount, currency
        case invoiceID = "invoice_id"
        case transactionID = "transaction_id"
        case refundOf = "refund_of"
        case createdAt = "created_at"
    }

    public init(_ payment: Payment) {
        id = payment.id.uuidString.lowercased()
        invoiceID = payment.invoiceID.uuidString.lowercased()
        kind = payment.kind.rawValue
        gateway = payment.gateway
        amount = payment.amount.minorUnits
        currency = payment.amount.currency.code
        transactionID = payment.transactionID
        refundOf = payment.refundOf?.uuidString.lowercased()
        createdAt = Timestamp.iso(payment.createdAt)
    }
}

/// A card checkout waiting for the gateway.
public struct CheckoutState: Codable, Sendable, Equatable {
    public let id: String
    public let status: String
    public let amount: Int64
    public let currency: String
    /// Where the client completes the payment with the provider.
    public let paymentURL: String

    enum CodingKeys: String, CodingKey {
        case id, status, amount, currency
        case paymentURL = "payment_url"
    }

    init(_ checkout: CheckoutRepository.Checkout) {
        id = checkout.id.uuidString.lowercased()
        status = checkout.status.rawValue
        amount = checkout.amount.minorUnits
        currency = checkout.amount.currency.code
        paymentURL = "/clientarea/checkouts/\(id)"
    }
}

/// What paying (or applying credit to, or recording a payment for) an invoice did.
public struct PayOutcome: Codable, Sendable, Equatable {
    /// `paid` (settled in full), `partially_paid`, `pending` (a checkout waits for the gateway),
    /// or `instructions` (bank transfer: nothing moved yet).
    public let result: String
    public let invoice: InvoiceState
    public let payment: PaymentRecord?
    public let checkout: CheckoutState?
    public let instructions: String?
    /// Minor units that went to the client's credit balance (a gateway overpayment).
    public let credited: Int64

    init(result: String, invoice: Invoice, payment: Payment? = nil, checkout: CheckoutRepository.Checkout? = nil, instructions: String? = nil, credited: Int64 = 0) {
        self.result = result
        self.invoice = InvoiceState(invoice)
        self.payment = payment.map(PaymentRecord.init)
        self.checkout = checkout.map(CheckoutState.init)
        self.instructions = instructions
        self.credited = credited
    }

    static func settled(_ invoice: Invoice, payment: Payment, credited: Int64 = 0) -> PayOutcome {
        PayOutcome(result: invoice.status == .paid ? "paid" : "partially_paid", invoice: invoice, payment: payment, credited: credited)
    }
}

/// What a refund did.
public struct RefundOutcome: Codable, Sendable, Equatable {
    public let refund: PaymentRecord
    public let invoice: InvoiceState
    /// Whether the money went to the client's credit balance instead of back to the gateway.
    public let toCredit: Bool

    enum CodingKeys: String, CodingKey {
        case refund, invoice
        case toCredit = "to_credit"
    }
}

/// What a credit adjustment did.
public struct CreditOutcome: Codable, Sendable, Equatable {
    public let entryID: String
    public let amount: Int64
    public let currency: String
    public let balance: Int64

    enum CodingKeys: String, CodingKey {
        case amount, currency, balance
        case entryID = "entry_id"
    }
}

/// What checking out a cart did.
public struct OrderOutcome: Codable, Sendable, Equatable {
    public let orderID: String
    public let invoiceID: String
    public let invoiceNumber: String?
    public let total: Int64
    public let currency: String

    enum CodingKeys: String, CodingKey {
        case total, currency
        case orderID = "order_id"
        case invoiceID = "invoice_id"
        case invoiceNumber = "invoice_number"
    }
}

/// What a gateway webhook did.
public struct WebhookOutcome: Codable, Sendable, Equatable {
    public let event: String
    public let checkoutID: String
    public let result: String
    public let payment: PaymentRecord?
    public let invoice: InvoiceState?

    enum CodingKeys: String, CodingKey {
        case event, result, payment, invoice
        case checkoutID = "checkout_id"
    }
}

/// An idempotent operation's answer: the value, its stored JSON, and whether this call
/// replayed an earlier one.
public struct IdempotentResult<Value: Codable & Sendable>: Sendable {
    public let value: Value
    /// Byte-for-byte the JSON stored with the key (identical for the original and every replay).
    public let json: String
    public let replayed: Bool
}
