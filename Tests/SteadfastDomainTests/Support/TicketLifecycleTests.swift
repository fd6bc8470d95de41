import Foundation
import SteadfastDomain
import Testing

@Suite struct TicketLifecycleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func repliesMoveTheStatusAndNotesDoNot() throws {
        for status in TicketStatus.allCases {
            #expect(try TicketLifecycle.next(from: status, on: .clientReplied) == .customerReply)
            #expect(try TicketLifecycle.next(from: status, on: .staffReplied) == .answered)
            #expect(try TicketLifecycle.next(from: status, on: .notePosted) == status)
            for target in TicketStatus.allCases {
                #expect(try TicketLifecycle.next(from: status, on: .staffSet(target)) == target)
            }
        }
        #expect(TicketLifecycle.initial == .open)
    }

    @Test func aClientClosesOnceAndAReplyReopens() throws {
        #expect(try TicketLifecycle.next(from: .answered, on: .clientClosed) == .closed)
        #expect(throws: SupportError.self) { try TicketLifecycle.next(from: .closed, on: .clientClosed) }
        #expect(try TicketLifecycle.next(from: .closed, on: .clientReplied) == .customerReply)
    }

    @Test func autoCloseOnlyAnsweredTicketsAfterTheDelay() throws {
        let day = Duration.seconds(72 * 3600)
        let justBefore = start.addingTimeInterval(72 * 3600 - 1)
        let atTheDelay = start.addingTimeInterval(72 * 3600)
        #expect(try TicketLifecycle.next(from: .answered, on: .autoCloseCheck(lastActivity: start, now: justBefore, after: day)) == .answered)
        #expect(try TicketLifecycle.next(from: .answered, on: .autoCloseCheck(lastActivity: start, now: atTheDelay, after: day)) == .closed)
        for status in TicketStatus.allCases where status != .answered {
            #expect(try TicketLifecycle.next(from: status, on: .autoCloseCheck(lastActivity: start, now: atTheDelay.addingTimeInterval(1e6), after: day)) == status)
        }
        // Zero means never.
        #expect(try TicketLifecycle.next(from: .answered, on: .autoCloseCheck(lastActivity: start, now: start.addingTimeInterval(1e9), after: .zero)) == .answered)
        #expect(TicketLifecycle.autoCloseCutoff(now: atTheDelay, after: .zero) == nil)
        #expect(TicketLifecycle.autoCloseCutoff(now: atTheDelay, after: day) == start)
    }
}

@Suite struct TicketNumberTests {
    @Test func formatsAndParses() throws {
        let number = try TicketNumber(482_913)
        #expect(number.description == "TKT-482913")
        #expect(try TicketNumber(parsing: "tkt-482913") == number)
        #expect(try TicketNumber(parsing: " TKT-482913 ") == number)
        for bad in ["TKT-48291", "TKT-4829130", "TKT-48291x", "TKX-482913", "482913", "TKT-+48291", "TKT-099999", ""] {
            #expect(throws: SupportError.self, "\(bad)") { try TicketNumber(parsing: bad) }
        }
    }

    @Test func randomNumbersStayInRange() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1000 {
            #expect(TicketNumber.range.contains(TicketNumber.random(using: &generator).value))
        }
    }

    @Test func findsTheTagInAMailSubject() throws {
        #expect(TicketNumber.tagged(in: "Re: [TKT-482913] Server down") == (try TicketNumber(482_913)))
        #expect(TicketNumber.tagged(in: "[urgent] Re: [TKT-123456] x") == (try TicketNumber(123_456)))
        #expect(TicketNumber.tagged(in: "TKT-482913 without brackets") == nil)
        #expect(TicketNumber.tagged(in: "[TKT-12] [") == nil)
    }
}

@Suite struct AttachmentPolicyTests {
    let policy = AttachmentPolicy(maxFileSize: 1000, maxMessageSize: 1500, maxFilesPerMessage: 3, allowedExtensions: ["txt", "png", "PDF", "docx"])
    let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13]

    @Test func sizeAndExtensionLimits() throws {
        try policy.check(filename: "a.txt", size: 1000)
        #expect(throws: SupportError(.tooLarge, "each attachment may be at most 1000 bytes; 'a.txt' has 1001", field: "attachments")) {
            try policy.check(filename: "a.txt", size: 1001)
        }
        try policy.check(filename: "Scan.PDF", size: 1)
        for name in ["a.exe", "noextension", ".txt", "a.txt.sh"] {
            #expect(performing: { try policy.check(filename: name, size: 1) }, throws: { ($0 as? SupportError)?.kind == .unsupportedType })
        }
        try policy.check(messageFileSizes: [500, 500, 500])
        #expect(performing: { try policy.check(messageFileSizes: [1000, 501]) }, throws: { ($0 as? SupportError)?.kind == .tooLarge })
        #expect(performing: { try policy.check(messageFileSizes: [1, 1, 1, 1]) }, throws: { ($0 as? SupportError)?.kind == .invalid })
        // Checked arithmetic: sizes that overflow Int64 together are refused, not wrapped.
        #expect(performing: { try policy.check(messageFileSizes: [Int64.max, Int64.max]) }, throws: { ($0 as? SupportError)?.kind == .tooLarge })
    }

    @Test func contentMustMatchTheExtension() throws {
        #expect(try policy.sniffedContentType(filename: "shot.png", prefix: png) == "image/png")
        #expect(try policy.sniffedContentType(filename: "notes.txt", prefix: Array("héllo\nworld\t".utf8)) == "text/plain; charset=utf-8")
        // An executable named .png, a PNG named .txt, binary bytes named .txt: 415.
        for (name, bytes) in [("shot.png", [0x4D, 0x5A, 0x90, 0]), ("notes.txt", png), ("notes.txt", [0x00, 0x01, 0xFF])] as [(String, [UInt8])] {
            #expect(performing: { try policy.sniffedContentType(filename: name, prefix: bytes) }, throws: { ($0 as? SupportError)?.kind == .unsupportedType })
        }
        // An allowed extension without a rule of its own: anything but a program.
        #expect(try policy.sniffedContentType(filename: "a.docx", prefix: [0x50, 0x4B, 0x03, 0x04]) == "application/octet-stream")
        #expect(performing: { try policy.sniffedContentType(filename: "a.docx", prefix: [0x7F, 0x45, 0x4C, 0x46]) }, throws: { ($0 as? SupportError)?.kind == .unsupportedType })
    }

    @Test func textSniffingAllowsAMultiByteCharacterCutAtTheSampleEnd() {
        let text = Array(String(repeating: "a", count: 511).utf8) + [0xC3]
        #expect(ContentSniffer.sniff(text) == "text/plain")
        #expect(ContentSniffer.sniff([0x61, 0xC3]) == "application/octet-stream")
        #expect(ContentSniffer.sniff([0x61, 0xC3, 0x28]) == "application/octet-stream")
    }
}

@Suite struct TicketTextTests {
    @Test func subjectsBodiesAndNamesAreTrimmedBoundedAndFreeOfControlCharacters() throws {
        #expect(try Ticket.validateSubject("  Server down ") == "Server down")
        #expect(try Ticket.validateBody("line 1\n\tline 2\r\n") == "line 1\n\tline 2")
        for (field, body) in [("subject", { try Ticket.validateSubject("a\nb") }), ("subject", { try Ticket.validateSubject(" ") }),
                              ("subject", { try Ticket.validateSubject(String(repeating: "x", count: 201)) }),
                              ("message", { try Ticket.validateBody("bell\u{07}") }), ("name", { try Ticket.validateDepartmentName("") })] as [(String, () throws -> String)] {
            #expect(performing: { _ = try body() }, throws: { ($0 as? SupportError)?.field == field })
        }
        #expect(try Ticket.validateSubject(String(repeating: "x", count: 200)).count == 200)
    }
}
