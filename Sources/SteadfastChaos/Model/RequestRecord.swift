/// What a request of the chaos load was for. The kind decides how a failure counts against the
/// targets: GETs (`isRead`), writes, storage requests and reads a standby can serve.
public enum RequestKind: String, Codable, Sendable, CaseIterable {
    /// An HTML page (`/clientarea`, `/store`, `/login`).
    case page
    /// A JSON read that needs the primary database (`/api/v1/invoices`, `/api/v1/catalogue`).
    case apiRead = "api_read"
    /// `GET /api/v1/me`: only the session and the account, which a standby serves while no primary is reachable.
    case sessionRead = "session_read"
    case register
    case login
    case addToCart = "add_to_cart"
    case checkout
    case pay
    /// Staff recording a bank transfer for a client's invoice (when the nodes offer no test card).
    case recordPayment = "record_payment"
    case upload
    case download

    /// A GET: counted by the "zero failed GETs" targets.
    public var isRead: Bool {
        switch self {
        case .page, .apiRead, .sessionRead, .download: true
        default: false
        }
    }

    /// A request that must write to the primary database.
    public var isWrite: Bool { !isRead }

    /// Uploads and downloads: the requests that need the storage server.
    public var needsStorage: Bool { self == .upload || self == .download }

    /// Reads the design serves from a standby while no primary is reachable (docs/ha-postgres.md:
    /// session look-ups and the logged-in account).
    public var standbyReadable: Bool { self == .sessionRead }
}

/// Why a request failed, as the report counts them.
public enum FailureKind: String, Codable, Sendable, CaseIterable, Comparable {
    /// The TCP connection was refused (nothing listening).
    case connectRefused = "connect_refused"
    /// The connection was closed or reset before a whole answer arrived.
    case reset
    /// No answer within the request's time limit.
    case timeout
    /// A 5xx answer.
    case serverError = "5xx"
    /// A 4xx the request should not have had.
    case unexpected4xx = "4xx_unexpected"
    /// An authenticated request answered 401 or redirected to the log-in page.
    case sessionLost = "session_lost"
    /// A download whose bytes differ from what was uploaded.
    case corrupt
    /// Anything else (a malformed answer, a local error).
    case other

    public static func < (lhs: FailureKind, rhs: FailureKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One request of the load: when it started (seconds since the run began), how long it took,
/// what it was and how it ended.
public struct RequestRecord: Codable, Sendable, Equatable {
    public var start: Double
    public var duration: Double
    public var kind: RequestKind
    /// Method and path template, e.g. `POST /api/v1/invoices/{id}/pay`.
    public var route: String
    /// The HTTP status, or nil when no answer arrived.
    public var status: Int?
    public var failure: FailureKind?
    /// The visitor that sent it (for streaks per visitor and debugging).
    public var visitor: Int

    public init(start: Double, duration: Double, kind: RequestKind, route: String, status: Int?, failure: FailureKind?, visitor: Int) {
        self.start = start
        self.duration = duration
        self.kind = kind
        self.route = route
        self.status = status
        self.failure = failure
        self.visitor = visitor
    }

    public var end: Double { start + duration }
    public var failed: Bool { failure != nil }
}

/// When the fault happened, in seconds since the run began. `start` is the moment the fault was
/// injected (the kill, the stop, the SIGSTOP); `recovered` the moment the injector finished
/// undoing it (the start command returned, SIGCONT was sent, the failover command returned).
public struct FaultTimeline: Codable, Sendable, Equatable {
    public struct Mark: Codable, Sendable, Equatable {
        public var at: Double
        public var label: String
        public init(at: Double, label: String) {
            self.at = at
            self.label = label
        }
    }

    public var start: Double
    /// When the fault's first step had returned: the fault fully in place (a stopped server is
    /// gone, not still shutting down). Nil in reports written before it was recorded.
    public var injected: Double?
    /// When the first undo step began (a stopped server being started again); nil without one,
    /// or in reports written before it was recorded.
    public var undoStarted: Double?
    public var recovered: Double
    /// Every step the injector took, for the timeline.
    public var marks: [Mark]
    /// Errors the injector met (a failed cluster command): the run fails when there are any.
    public var errors: [String]

    public init(
        start: Double, injected: Double? = nil, undoStarted: Double? = nil, recovered: Double, marks: [Mark] = [], errors: [String] = []
    ) {
        self.start = start
        self.injected = injected
        self.undoStarted = undoStarted
        self.recovered = recovered
        self.marks = marks
        self.errors = errors
    }
}
