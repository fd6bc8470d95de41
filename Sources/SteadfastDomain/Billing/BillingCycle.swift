/// How often a product is billed.
public enum BillingCycle: String, Sendable, Codable, CaseIterable, Hashable {
    case oneTime = "one_time"
    case monthly
    case quarterly
    case semiAnnually = "semi_annually"
    case annually
    case biennially

    /// Calendar months per period; `nil` for one-time products (never renewed).
    public var months: Int? {
        switch self {
        case .oneTime: nil
        case .monthly: 1
        case .quarterly: 3
        case .semiAnnually: 6
        case .annually: 12
        case .biennially: 24
        }
    }

    public var isRecurring: Bool { months != nil }

    /// For people: "Monthly", "Semi-annually", "One-time".
    public var label: String {
        switch self {
        case .oneTime: "One-time"
        case .monthly: "Monthly"
        case .quarterly: "Quarterly"
        case .semiAnnually: "Semi-annually"
        case .annually: "Annually"
        case .biennially: "Biennially"
        }
    }

    /// The due date after `date` for a service anchored on `anchorDay` (its registration day):
    /// month-end clamped, but returning to the anchor when the month allows. `nil` for one-time.
    public func nextDueDate(after date: BillingDate, anchorDay: Int) -> BillingDate? {
        months.map { date.adding(months: $0, anchorDay: anchorDay) }
    }

    public init(parsing raw: String, field: String = "cycle") throws(BillingError) {
        guard let cycle = BillingCycle(rawValue: raw.lowercased()) else {
            throw .invalid("'\(raw)' is not a billing cycle (one of \(BillingCycle.allCases.map(\.rawValue).joined(separator: ", ")))", field: field)
        }
        self = cycle
    }
}
