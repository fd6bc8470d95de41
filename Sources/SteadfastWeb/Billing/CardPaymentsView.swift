import Foundation
import SteadfastDomain
import SteadfastPersistence
import SteadfastServices

/// An invoice answer with its Stripe side: each PaymentIntent made for it (status `open`,
/// `succeeded`, `failed` or `disputed`, with the dispute's id) and, for staff, the automatic
/// capture attempts. Refunds are in the ledger (`amount_refunded`, and the payments list).
/// Encoded as the invoice's own fields plus `card_payments` (and `capture_attempts`), present
/// only when there are any.
struct InvoiceWithCardPayments: Encodable {
    struct CardPayment: Encodable {
        let paymentIntent: String
        let status: String
        let amount: Int64
        let currency: String
        let disputeId: String?
    }

    struct CaptureAttempt: Encodable {
        let attempt: Int
        let status: String
        let amount: Int64
        let paymentIntent: String?
        let failure: String?
        let startedAt: Date
        let finishedAt: Date?
    }

    let invoice: BillingViews.InvoiceView
    let cardPayments: [CardPayment]
    let captureAttempts: [CaptureAttempt]

    enum CodingKeys: String, CodingKey {
        case cardPayments, captureAttempts
    }

    /// The invoice with its PaymentIntents; `staff` adds the capture attempts.
    static func load(_ invoice: Invoice, stripe: StripePayments?, staff: Bool) async throws -> InvoiceWithCardPayments {
        let intents = try await stripe?.intents(invoiceID: invoice.id) ?? []
        let attempts = staff ? try await stripe?.captureAttempts(invoiceID: invoice.id) ?? [] : []
        return InvoiceWithCardPayments(
            invoice: BillingViews.InvoiceView(invoice),
            cardPayments: intents.map {
                CardPayment(paymentIntent: $0.id, status: $0.status.rawValue, amount: $0.amount.minorUnits, currency: $0.amount.currency.code, disputeId: $0.disputeID)
            },
            captureAttempts: attempts.map {
                CaptureAttempt(
                    attempt: $0.number, status: $0.status.rawValue, amount: $0.amount.minorUnits, paymentIntent: $0.intentID, failure: $0.failure,
                    startedAt: $0.startedAt, finishedAt: $0.finishedAt
                )
            }
        )
    }

    func encode(to encoder: any Encoder) throws {
        try invoice.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        if !cardPayments.isEmpty { try container.encode(cardPayments, forKey: .cardPayments) }
        if !captureAttempts.isEmpty { try container.encode(captureAttempts, forKey: .captureAttempts) }
    }
}

extension InvoiceWithCardPayments {
    /// The same for the HTML invoice pages (`partials/card-payments`): `cardPayments`, and for
    /// staff `captureAttempts`, each with a `has...` flag.
    static func pageValues(_ invoice: Invoice, stripe: StripePayments?, staff: Bool) async throws -> [String: Any] {
        guard let stripe else { return [:] }
        let intents = try await stripe.intents(invoiceID: invoice.id)
        let attempts = staff ? try await stripe.captureAttempts(invoiceID: invoice.id) : []
        return [
            "hasCardPayments": !intents.isEmpty,
            "cardPayments": intents.map { intent -> [String: Any] in
                ["id": intent.id, "amount": PageValues.money(intent.amount), "badge": Badge.values(intent.status.rawValue), "dispute": intent.disputeID ?? ""]
            },
            "hasCaptureAttempts": !attempts.isEmpty,
            "captureAttempts": attempts.map { attempt -> [String: Any] in
                [
                    "attempt": attempt.number, "started": PageValues.dateTime(attempt.startedAt), "amount": PageValues.money(attempt.amount),
                    "badge": Badge.values(attempt.status.rawValue), "failure": attempt.failure ?? "",
                ]
            },
        ]
    }
}
