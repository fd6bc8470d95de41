import Testing
@testable import SteadfastChaos

@Suite struct AuditTests {
    func check(_ name: String, _ input: AuditInput) -> AuditCheck {
        Audit.check(input).first { $0.name.hasPrefix(name) }!
    }

    @Test func everyAcknowledgedPaymentMustBeStoredExactlyOnce() {
        var input = AuditInput()
        input.acknowledgedPayments = [.init(paymentID: "p1", invoiceID: "i1"), .init(paymentID: "p2", invoiceID: "i2")]
        input.attemptedPaymentInvoices = ["i1", "i2", "i3"]
        input.storedPayments = [.init(id: "p1", invoiceID: "i1", kind: "payment"), .init(id: "p2", invoiceID: "i2", kind: "payment"),
                                .init(id: "r1", invoiceID: "i2", kind: "refund"), .init(id: "p3", invoiceID: "i3", kind: "payment")]
        // i3's payment was not acknowledged (the client gave up) but exists once: fine.
        #expect(check("payments", input).passed)

        var lost = input
        lost.storedPayments.removeFirst()
        let lostCheck = check("payments", lost)
        #expect(!lostCheck.passed && lostCheck.problems == ["acknowledged payment p1 of invoice i1 is stored 0 times"])

        var doubled = input
        doubled.storedPayments.append(.init(id: "p4", invoiceID: "i3", kind: "payment"))
        let doubledCheck = check("payments", doubled)
        #expect(!doubledCheck.passed && doubledCheck.problems == ["invoice i3 was paid once but holds 2 payments"])
    }

    @Test func invoiceNumbersMustBeUniqueAndGapFreePerSequence() {
        var input = AuditInput()
        input.acknowledgedInvoices = [.init(invoiceID: "a", number: "INV-2026-000002")]
        input.storedInvoices = [
            .init(invoiceID: "x", number: "INV-2026-000001"), .init(invoiceID: "a", number: "INV-2026-000002"),
            .init(invoiceID: "b", number: "INV-2026-000003"), .init(invoiceID: "d", number: nil),
            .init(invoiceID: "y", number: "INV-2027-000001"),
        ]
        #expect(check("invoice", input).passed)

        var gap = input
        gap.storedInvoices.append(.init(invoiceID: "c", number: "INV-2026-000005"))
        let gapCheck = check("invoice", gap)
        #expect(!gapCheck.passed && gapCheck.problems == ["sequence INV-2026-{SEQ}…: 1 numbers up to 5 are missing (4)"])

        var repeated = input
        repeated.storedInvoices.append(.init(invoiceID: "c", number: "INV-2026-000003"))
        #expect(check("invoice", repeated).problems == ["invoice number INV-2026-000003 is used 2 times"])

        var missing = input
        missing.storedInvoices.remove(at: 1)
        #expect(check("invoice", missing).problems.first == "acknowledged invoice a (INV-2026-000002) is missing")

        var renumbered = input
        renumbered.acknowledgedInvoices = [.init(invoiceID: "a", number: "INV-2026-000009")]
        #expect(check("invoice", renumbered).problems == ["invoice a was acknowledged as INV-2026-000009 but is stored as INV-2026-000002"])
    }

    @Test func theCounterIsTheLastRunOfDigits() {
        #expect(InvoiceSequenceNumber("INV-2026-000042") == InvoiceSequenceNumber(sequence: "INV-2026-{SEQ}", value: 42))
        #expect(InvoiceSequenceNumber("7/INV") == InvoiceSequenceNumber(sequence: "{SEQ}/INV", value: 7))
        #expect(InvoiceSequenceNumber("DRAFT") == nil)
    }

    @Test func uploadsMustDownloadByteIdenticalAndNothingHalfStored() {
        var input = AuditInput()
        input.uploads = [
            .init(filename: "a.bin", sha256: "aaa", size: 10, acknowledgedID: "f1"),
            .init(filename: "b.bin", sha256: "bbb", size: 20, acknowledgedID: nil),
            .init(filename: "c.bin", sha256: "ccc", size: 30, acknowledgedID: nil),
        ]
        // b was stored whole though its answer was lost: fine. c is not stored: fine.
        input.storedFiles = [.init(id: "f1", filename: "a.bin", sha256: "aaa", size: 10), .init(id: "f2", filename: "b.bin", sha256: "bbb", size: 20),
                             .init(id: "f9", filename: "someone-elses.pdf", sha256: "zzz", size: 5)]
        let fine = check("uploads", input)
        #expect(fine.passed)
        #expect(fine.detail.contains("1 stored without an acknowledgement"))

        var corrupt = input
        corrupt.storedFiles[0].sha256 = "abc"
        #expect(check("uploads", corrupt).problems == ["acknowledged upload a.bin (f1) downloads different bytes (10 of 10)"])

        var gone = input
        gone.storedFiles.removeFirst()
        #expect(check("uploads", gone).problems == ["acknowledged upload a.bin (f1) is missing"])

        var half = input
        half.storedFiles[1] = .init(id: "f2", filename: "b.bin", sha256: "b", size: 7)
        #expect(check("uploads", half).problems == ["half-stored: b.bin (f2) is listed with 7 of 20 bytes or different bytes"])

        var unreadable = input
        unreadable.storedFiles[1] = .init(id: "f2", filename: "b.bin", sha256: nil, size: 20, downloadError: "status 503")
        #expect(!check("uploads", unreadable).passed)
    }

    @Test func aSessionThatWorkedBeforeTheFaultMustStillWork() {
        var input = AuditInput()
        input.sessions = [.init(visitor: 0, workedBeforeFault: true, worksAfter: true), .init(visitor: 1, workedBeforeFault: false, worksAfter: false)]
        #expect(check("no session lost", input).passed)
        #expect(Audit.lostSessions(input) == 0)
        input.sessions.append(.init(visitor: 2, workedBeforeFault: true, worksAfter: false, detail: "GET /api/v1/me answered 401"))
        input.sessions.append(.init(visitor: 3, workedBeforeFault: true, worksAfter: nil))
        let lost = check("no session lost", input)
        #expect(!lost.passed && lost.problems.count == 2 && lost.problems[0].contains("401"))
        #expect(Audit.lostSessions(input) == 2)
    }

    @Test func readErrorsFailTheAudit() {
        var input = AuditInput()
        #expect(Audit.check(input).allSatisfy { $0.passed })
        input.readErrors = ["payments: no answer"]
        #expect(!Audit.check(input).allSatisfy { $0.passed })
    }
}
