/// What the load saw acknowledged, and what the cluster holds afterwards (read back through the
/// API and the staff API). ``Audit/check(_:)`` compares the two; it does no I/O.
public struct AuditInput: Sendable, Equatable {
    /// A payment the cluster answered 200/201 for.
    public struct AcknowledgedPayment: Sendable, Equatable {
        public var paymentID: String
        public var invoiceID: String
        public init(paymentID: String, invoiceID: String) {
            self.paymentID = paymentID
            self.invoiceID = invoiceID
        }
    }

    /// A payment row as the staff API lists it.
    public struct StoredPayment: Sendable, Equatable {
        public var id: String
        public var invoiceID: String
        /// `payment` or `refund`.
        public var kind: String
        public init(id: String, invoiceID: String, kind: String) {
            self.id = id
            self.invoiceID = invoiceID
            self.kind = kind
        }
    }

    /// An invoice: acknowledged by a checkout, or as the staff API lists it.
    public struct InvoiceNumber: Sendable, Equatable {
        public var invoiceID: String
        public var number: String?
        public init(invoiceID: String, number: String?) {
            self.invoiceID = invoiceID
            self.number = number
        }
    }

    /// An upload the load attempted: its name is unique, so a stored file is matched by it.
    public struct Upload: Sendable, Equatable {
        public var filename: String
        public var sha256: String
        public var size: Int
        /// The stored file's id when the upload was acknowledged (201).
        public var acknowledgedID: String?
        public init(filename: String, sha256: String, size: Int, acknowledgedID: String?) {
            self.filename = filename
            self.sha256 = sha256
            self.size = size
            self.acknowledgedID = acknowledgedID
        }
    }

    /// A file the cluster lists, downloaded in full: nil `sha256` when the download failed.
    public struct StoredFile: Sendable, Equatable {
        public var id: String
        public var filename: String
        public var sha256: String?
        public var size: Int
        public var downloadError: String?
        public init(id: String, filename: String, sha256: String?, size: Int, downloadError: String? = nil) {
            self.id = id
            self.filename = filename
            self.sha256 = sha256
            self.size = size
            self.downloadError = downloadError
        }
    }

    /// A visitor's session: worked before the fault, and whether it still works (nil: could not be asked).
    public struct Session: Sendable, Equatable {
        public var visitor: Int
        public var workedBeforeFault: Bool
        public var worksAfter: Bool?
        public var detail: String
        public init(visitor: Int, workedBeforeFault: Bool, worksAfter: Bool?, detail: String = "") {
            self.visitor = visitor
            self.workedBeforeFault = workedBeforeFault
            self.worksAfter = worksAfter
            self.detail = detail
        }
    }

    public var acknowledgedPayments: [AcknowledgedPayment] = []
    /// Every invoice the load tried to pay, acknowledged or not.
    public var attemptedPaymentInvoices: Set<String> = []
    public var storedPayments: [StoredPayment] = []
    public var acknowledgedInvoices: [InvoiceNumber] = []
    public var storedInvoices: [InvoiceNumber] = []
    public var uploads: [Upload] = []
    /// Every file the visitors' accounts hold.
    public var storedFiles: [StoredFile] = []
    public var sessions: [Session] = []
    /// Reading the cluster back failed: the audit cannot pass.
    public var readErrors: [String] = []

    public init() {}
}

/// One audit check and what it found.
public struct AuditCheck: Codable, Sendable, Equatable {
    public var name: String
    public var passed: Bool
    /// What was checked, in numbers.
    public var detail: String
    /// The first problems found (at most ``Audit/maximumProblems``).
    public var problems: [String]

    public init(name: String, passed: Bool, detail: String, problems: [String]) {
        self.name = name
        self.passed = passed
        self.detail = detail
        self.problems = problems
    }

    /// The one way a check ends: passed when it found no problems, the first
    /// ``Audit/maximumProblems`` of them kept.
    init(name: String, detail: String, problems: [String]) {
        self.init(name: name, passed: problems.isEmpty, detail: detail, problems: Array(problems.prefix(Audit.maximumProblems)))
    }
}

extension Sequence {
    /// The elements by `key`, the first of each key kept (the audit's look-ups by id).
    func firstByKey<Key: Hashable>(_ key: (Element) -> Key) -> [Key: Element] {
        Dictionary(map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// The audit after a run: every acknowledged payment exists exactly once, every acknowledged
/// upload downloads byte-identical and nothing is half-stored, no session that worked before
/// the fault was lost, and invoice numbers are unique and gap-free.
public enum Audit {
    public static let maximumProblems = 20

    public static func check(_ input: AuditInput) -> [AuditCheck] {
        var checks = [payments(input), invoices(input), uploads(input), sessions(input)]
        if !input.readErrors.isEmpty {
            checks.append(AuditCheck(
                name: "read back", detail: "the cluster could not be read back after the run", problems: input.readErrors
            ))
        }
        return checks
    }

    /// Every acknowledged payment is stored exactly once; no invoice the load paid holds more than
    /// one payment (the load pays the whole balance once, retrying with the same Idempotency-Key).
    static func payments(_ input: AuditInput) -> AuditCheck {
        var problems: [String] = []
        var byID: [String: Int] = [:]
        var byInvoice: [String: Int] = [:]
        for payment in input.storedPayments where payment.kind == "payment" {
            byID[payment.id, default: 0] += 1
            byInvoice[payment.invoiceID, default: 0] += 1
        }
        for acknowledged in input.acknowledgedPayments {
            let count = byID[acknowledged.paymentID] ?? 0
            if count != 1 {
                problems.append("acknowledged payment \(acknowledged.paymentID) of invoice \(acknowledged.invoiceID) is stored \(count) times")
            }
        }
        for invoice in input.attemptedPaymentInvoices.sorted() where (byInvoice[invoice] ?? 0) > 1 {
            problems.append("invoice \(invoice) was paid once but holds \(byInvoice[invoice] ?? 0) payments")
        }
        let duplicates = input.attemptedPaymentInvoices.count(where: { (byInvoice[$0] ?? 0) > 1 })
        return AuditCheck(
            name: "payments exactly once",
            detail: "\(input.acknowledgedPayments.count) acknowledged payments, \(input.attemptedPaymentInvoices.count) invoices paid, \(duplicates) with more than one payment",
            problems: problems
        )
    }

    /// Every acknowledged invoice exists with the number it was acknowledged with; numbers are
    /// unique, and each sequence (the text around the counter, e.g. `INV-2026-`) runs from 1 to
    /// its largest number without a gap. Gap-free is what the design promises (docs/billing.md:
    /// the counter row is incremented in the issuing transaction, so a rolled-back issue rolls
    /// back its number); cancelled invoices keep theirs, drafts have none.
    static func invoices(_ input: AuditInput) -> AuditCheck {
        var problems: [String] = []
        let stored = input.storedInvoices.firstByKey(\.invoiceID).mapValues(\.number)
        for invoice in input.acknowledgedInvoices {
            guard let number = stored[invoice.invoiceID] else {
                problems.append("acknowledged invoice \(invoice.invoiceID) (\(invoice.number ?? "no number")) is missing")
                continue
            }
            if let expected = invoice.number, number != expected {
                problems.append("invoice \(invoice.invoiceID) was acknowledged as \(expected) but is stored as \(number ?? "no number")")
            }
        }
        var sequences: [String: [Int]] = [:]
        var seen: [String: Int] = [:]
        for number in input.storedInvoices.compactMap(\.number) {
            seen[number, default: 0] += 1
            guard let parsed = InvoiceSequenceNumber(number) else {
                problems.append("invoice number \(number) has no counter")
                continue
            }
            sequences[parsed.sequence, default: []].append(parsed.value)
        }
        for (number, count) in seen.sorted(by: { $0.key < $1.key }) where count > 1 {
            problems.append("invoice number \(number) is used \(count) times")
        }
        for (sequence, values) in sequences.sorted(by: { $0.key < $1.key }) {
            let present = Set(values)
            let largest = values.max() ?? 0
            let missing = (1...max(largest, 1)).filter { !present.contains($0) }
            if !missing.isEmpty {
                let shown = missing.prefix(10).map(String.init).joined(separator: ", ")
                problems.append("sequence \(sequence)…: \(missing.count) numbers up to \(largest) are missing (\(shown)\(missing.count > 10 ? ", …" : ""))")
            }
        }
        let numbered = input.storedInvoices.count(where: { $0.number != nil })
        return AuditCheck(
            name: "invoice numbers unique and gap-free",
            detail: "\(input.acknowledgedInvoices.count) acknowledged invoices, \(numbered) numbered invoices in \(sequences.count) sequence(s)",
            problems: problems
        )
    }

    /// Every acknowledged upload is listed and downloads byte-identical (SHA-256); every listed
    /// file the load sent downloads exactly what was sent, acknowledged or not (nothing half-stored).
    static func uploads(_ input: AuditInput) -> AuditCheck {
        var problems: [String] = []
        let attempted = input.uploads.firstByKey(\.filename)
        let stored = input.storedFiles.firstByKey(\.id)
        for upload in input.uploads {
            guard let id = upload.acknowledgedID else { continue }
            guard let file = stored[id] else {
                problems.append("acknowledged upload \(upload.filename) (\(id)) is missing")
                continue
            }
            if let error = file.downloadError {
                problems.append("acknowledged upload \(upload.filename) (\(id)) does not download: \(error)")
            } else if file.sha256 != upload.sha256 {
                problems.append("acknowledged upload \(upload.filename) (\(id)) downloads different bytes (\(file.size) of \(upload.size))")
            }
        }
        var unacknowledgedStored = 0
        for file in input.storedFiles {
            guard let upload = attempted[file.filename], upload.acknowledgedID != file.id else { continue }
            unacknowledgedStored += 1
            if let error = file.downloadError {
                problems.append("half-stored: \(file.filename) (\(file.id)) is listed but does not download: \(error)")
            } else if file.sha256 != upload.sha256 {
                problems.append("half-stored: \(file.filename) (\(file.id)) is listed with \(file.size) of \(upload.size) bytes or different bytes")
            }
        }
        let acknowledged = input.uploads.count(where: { $0.acknowledgedID != nil })
        return AuditCheck(
            name: "uploads byte-identical, nothing half-stored",
            detail: "\(input.uploads.count) uploads attempted, \(acknowledged) acknowledged, \(input.storedFiles.count) files listed (\(unacknowledgedStored) stored without an acknowledgement)",
            problems: problems
        )
    }

    /// A session that worked before the fault still works afterwards (not 401, not sent to log in).
    static func sessions(_ input: AuditInput) -> AuditCheck {
        let before = input.sessions.filter(\.workedBeforeFault)
        var problems: [String] = []
        for session in before where session.worksAfter != true {
            let what = session.worksAfter == nil ? "could not be checked" : "was lost"
            problems.append("visitor \(session.visitor)'s session \(what)\(session.detail.isEmpty ? "" : ": \(session.detail)")")
        }
        return AuditCheck(
            name: "no session lost",
            detail: "\(before.count) sessions worked before the fault, \(before.count - problems.count) still work",
            problems: problems
        )
    }

    /// How many sessions were lost (or could not be checked): for the targets.
    public static func lostSessions(_ input: AuditInput) -> Int {
        input.sessions.count(where: { $0.workedBeforeFault && $0.worksAfter != true })
    }
}

/// An invoice number split at its counter: the last run of digits (`INV-2026-000042` →
/// sequence `INV-2026-`, value 42). The number formats (`billing.invoice_number_format`) put
/// `{SEQ}` last or before fixed text; a format with date digits after the counter would be read
/// wrongly, and the audit says so by reporting gaps.
struct InvoiceSequenceNumber: Equatable {
    var sequence: String
    var value: Int

    init(sequence: String, value: Int) {
        self.sequence = sequence
        self.value = value
    }

    init?(_ number: String) {
        let characters = Array(number)
        guard let last = characters.lastIndex(where: \.isASCIIDigit) else { return nil }
        var first = last
        while first > 0, characters[first - 1].isASCIIDigit { first -= 1 }
        guard let value = Int(String(characters[first...last])) else { return nil }
        self.sequence = String(characters[..<first]) + "{SEQ}" + String(characters[(last + 1)...])
        self.value = value
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
