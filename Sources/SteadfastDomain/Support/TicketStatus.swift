/// Where a ticket stands. `answered` waits on the client, `open` and `customer_reply` wait on
/// staff; `on_hold` and `in_progress` are set by staff; `closed` ends it (a reply reopens it).
public enum TicketStatus: String, Sendable, CaseIterable, Codable, Hashable {
    case open
    case answered
    case customerReply = "customer_reply"
    case onHold = "on_hold"
    case inProgress = "in_progress"
    case closed

    /// Whether the ticket waits on staff (the queue's "waiting" view).
    public var awaitsStaff: Bool { self == .open || self == .customerReply || self == .inProgress }

    /// A human label ("Customer reply").
    public var label: String {
        switch self {
        case .open: "Open"
        case .answered: "Answered"
        case .customerReply: "Customer reply"
        case .onHold: "On hold"
        case .inProgress: "In progress"
        case .closed: "Closed"
        }
    }

    /// Parses the wire form (`customer_reply`); a 400 naming `field` otherwise.
    public init(parsing text: String, field: String = "status") throws(SupportError) {
        guard let status = TicketStatus(rawValue: text) else {
            throw .invalid("\(field) must be one of \(TicketStatus.allCases.map(\.rawValue).joined(separator: ", "))", field: field)
        }
        self = status
    }
}

/// How urgent a ticket is.
public enum TicketPriority: String, Sendable, CaseIterable, Codable, Hashable {
    case low, medium, high, urgent

    public init(parsing text: String?) throws(SupportError) {
        guard let text, !text.isEmpty else { self = .medium; return }
        guard let priority = TicketPriority(rawValue: text) else {
            throw .invalid("priority must be one of low, medium, high, urgent", field: "priority")
        }
        self = priority
    }
}

/// Who wrote a ticket message, and who may read it.
public enum MessageKind: String, Sendable, Codable, Hashable {
    /// Written by the ticket's client (on the web, the API or by e-mail).
    case client
    /// A staff reply: shown to the client.
    case staff
    /// A staff-only internal note: never shown to the client, in HTML or JSON.
    case note

    /// Whether the ticket's client may see messages of this kind.
    public var visibleToClient: Bool { self != .note }
}
