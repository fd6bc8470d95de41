/// A status shown as a coloured badge (`partials/badge`): the tone says what the status means
/// to the reader, so a decline or failure is never green and waiting is never red.
enum Badge {
    enum Tone: String {
        /// `muted`: finished and out of the way (a closed ticket), set apart from `neutral`.
        case success, info, warning, danger, neutral, muted
    }

    /// The tone of a status word used anywhere in the portal (invoices, orders, services,
    /// checkouts, tickets, jobs, mail). Unknown words are neutral.
    static func tone(_ status: String) -> Tone {
        switch status {
        case "paid", "active", "accepted", "succeeded", "completed", "sent", "delivered", "payment", "on sale": .success
        case "draft", "open", "answered", "in_progress", "running", "refund", "credit", "manual", "scheduled", "sending": .info
        case "unpaid", "pending", "suspended", "customer_reply", "on_hold", "queued", "overdue", "hidden", "retrying": .warning
        case "failed", "declined", "fraud", "terminated", "collections", "timed_out", "abandoned", "disputed", "revoked": .danger
        default: .neutral
        }
    }

    /// A ticket's status by what it asks of the desk: waiting for staff (open, customer reply)
    /// is a warning, being worked on is info, answered (the client's turn) is success, on hold
    /// is neutral, closed is muted.
    static func tone(ticket status: String) -> Tone {
        switch status {
        case "open", "customer_reply": .warning
        case "in_progress": .info
        case "answered": .success
        case "on_hold": .neutral
        case "closed": .muted
        default: .neutral
        }
    }

    /// A ticket status badge (``tone(ticket:)``) labelled `label`.
    static func values(ticket status: String, label: String) -> [String: Any] {
        ["tone": tone(ticket: status).rawValue, "label": label]
    }

    /// The template values of a badge for `status`, shown as `label` (the status with spaces).
    static func values(_ status: String, label: String? = nil) -> [String: Any] {
        ["tone": tone(status).rawValue, "label": label ?? status.replacingOccurrences(of: "_", with: " ")]
    }
}
