/// A status shown as a coloured badge (`partials/badge`): the tone says what the status means
/// to the reader, so a decline or failure is never green and waiting is never red.
enum Badge {
    enum Tone: String {
        case success, info, warning, danger, neutral
    }

    /// The tone of a status word used anywhere in the portal (invoices, orders, services,
    /// checkouts, tickets, jobs, mail). Unknown words are neutral.
    static func tone(_ status: String) -> Tone {
        switch status {
        case "paid", "active", "accepted", "succeeded", "completed", "sent", "delivered", "payment", "on sale": .success
        case "draft", "open", "answered", "in_progress", "running", "refund", "credit", "manual", "scheduled": .info
        case "unpaid", "pending", "suspended", "customer_reply", "on_hold", "queued", "overdue", "hidden", "retrying": .warning
        case "failed", "declined", "fraud", "terminated", "collections", "timed_out", "abandoned", "disputed", "revoked": .danger
        default: .neutral
        }
    }

    /// The template values of a badge for `status`, shown as `label` (the status with spaces).
    static func values(_ status: String, label: String? = nil) -> [String: Any] {
        ["tone": tone(status).rawValue, "label": label ?? status.replacingOccurrences(of: "_", with: " ")]
    }
}
