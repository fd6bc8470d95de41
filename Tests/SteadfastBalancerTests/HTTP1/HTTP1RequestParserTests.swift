import NIOCore
import Testing

@testable import SteadfastBalancer

@Suite("HTTP1RequestParser")
struct HTTP1RequestParserTests {
    typealias E = HTTP1Feed.Event

    @Test func aSimpleGetIsAHeadAndAnEnd() {
        #expect(
            HTTP1Feed.requests("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nAccept: */* \r\n\r\n")
                == [.head("GET /a?b=1 1.1 [Host=x,Accept=*/*]"), .end(trailers: nil)]
        )
    }

    @Test func bodiesComeByLengthOrChunked() {
        #expect(
            HTTP1Feed.requests("POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
                == [.head("POST /p 1.1 [Content-Length=5] length=5"), .body("hello"), .end(trailers: nil)]
        )
        #expect(
            HTTP1Feed.requests("PUT / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n5;name=\"v;x\" ; a\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\n")
                == [.head("PUT / 1.1 [Transfer-Encoding=Chunked] chunked"), .body("hello0123456789"), .end(trailers: "X-Sum: 1\r\n")]
        )
    }

    /// A long body arrives as slices; a chunk is never collected first.
    @Test func bodySlicesComeAsTheBytesArrive() throws {
        var parser = HTTP1RequestParser(maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nabc")
        guard case .head? = try parser.next(&buffer) else { Issue.record("no head"); return }
        guard case .body(let slice)? = try parser.next(&buffer) else { Issue.record("no slice"); return }
        #expect(String(buffer: slice) == "abc")
        #expect(try parser.next(&buffer) == nil)
    }

    @Test func keepAliveFollowsVersionAndConnection() {
        #expect(HTTP1Feed.requests("GET / HTTP/1.0\r\n\r\n") == [.head("GET / 1.0 [] close"), .end(trailers: nil)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == [.head("GET / 1.0 [Connection=Keep-Alive]"), .end(trailers: nil)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nConnection: x, close\r\n\r\n") == [.head("GET / 1.1 [Connection=x, close] close"), .end(trailers: nil)])
    }

    @Test func pipelinedRequestsComeOneAfterTheOther() {
        let text = "GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 2\r\n\r\nhiGET /3 HTTP/1.1\r\n\r\n"
        #expect(
            HTTP1Feed.requests(text) == [
                .head("GET /1 1.1 []"), .end(trailers: nil), .head("POST /2 1.1 [Content-Length=2] length=2"), .body("hi"), .end(trailers: nil),
                .head("GET /3 1.1 []"), .end(trailers: nil),
            ]
        )
    }

    /// The same events whatever the reads look like: cut at every byte position, and byte by byte.
    @Test func partialReadsSplitAtEveryBytePositionGiveTheSameEvents() {
        let texts = [
            "\r\nGET /1 HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                + "PATCH /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=\"q\"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\nU: 2\r\n\r\nGET /4 HTTP/1.0\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\nZ\r\n",
            "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
        ]
        for text in texts {
            let whole = HTTP1Feed.requests(text)
            for pieces in HTTP1Feed.splits(of: text) {
                let split = HTTP1Feed.requests(pieces)
                #expect(split == whole, "cut \(pieces.map(\.utf8.count))")
                if split != whole { break }
            }
        }
    }

    @Test(arguments: [
        "GARBAGE\r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.x\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",
        "GET /a b HTTP/1.1\r\n\r\n",
        "GET\t/ HTTP/1.1\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "GET /\u{7F} HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\r\n\r\n",
    ])
    func malformedRequestLinesAreRefused(_ text: String) {
        #expect(HTTP1Feed.requests(text) == [.error(.invalidRequestLine)])
    }

    @Test func otherVersionsAndConnectAreRefused() {
        #expect(HTTP1Feed.requests("GET / HTTP/2.0\r\n\r\n") == [.error(.unsupportedVersion)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.2\r\n\r\n") == [.error(.unsupportedVersion)])
        #expect(HTTP1Feed.requests("CONNECT a:443 HTTP/1.1\r\n\r\n") == [.error(.unsupportedMethod)])
        #expect(HTTP1ParseError.unsupportedVersion.responseStatus == .badRequest)
    }

    @Test func bothFramingsAtOnceAreRefused() {
        #expect(HTTP1Feed.requests("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n") == [.error(.contentLengthWithTransferEncoding)])
        #expect(HTTP1Feed.requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n") == [.error(.contentLengthWithTransferEncoding)])
    }

    @Test func contentLengthsMustAgreeAndBePlainNumbers() {
        #expect(HTTP1Feed.requests("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab") == [.error(.duplicateContentLength)])
        #expect(HTTP1Feed.requests("POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab") == [.error(.duplicateContentLength)])
        #expect(
            HTTP1Feed.requests("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nab")
                == [.head("POST / 1.1 [Content-Length=2,Content-Length=2, 2] length=2"), .body("ab"), .end(trailers: nil)]
        )
        for value in ["+5", "-1", "0x5", "", "5 5", "1,,1", "9999999999999999999", "５"] {
            #expect(HTTP1Feed.requests("POST / HTTP/1.1\r\nContent-Length: \(value)\r\n\r\n") == [.error(.invalidContentLength)], "\(value)")
        }
    }

    @Test func onlyChunkedIsAcceptedAsTransferCoding() {
        for value in ["gzip", "gzip, chunked", "chunked, chunked", "chunkedx", ""] {
            #expect(HTTP1Feed.requests("POST / HTTP/1.1\r\nTransfer-Encoding: \(value)\r\n\r\n") == [.error(.unsupportedTransferEncoding)], "\(value)")
        }
        #expect(
            HTTP1Feed.requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")
                == [.error(.unsupportedTransferEncoding)]
        )
    }

    @Test(arguments: [
        ("ZZ\r\nhello\r\n0\r\n\r\n", HTTP1ParseError.invalidChunkSize),
        ("5\r\nhello\r\n-3\r\nabc\r\n0\r\n\r\n", .invalidChunkSize),
        ("\r\n", .invalidChunkSize),
        (" 5\r\nhello\r\n", .invalidChunkSize),
        ("0x5\r\nhello\r\n", .invalidChunkSize),
        ("+5\r\nhello\r\n", .invalidChunkSize),
        ("1000000000000000\r\n", .invalidChunkSize),
        ("5 x\r\nhello\r\n", .invalidChunkExtension),
        ("5;\r\nhello\r\n", .invalidChunkExtension),
        ("5;a=\"b\r\nhello\r\n", .invalidChunkExtension),
        ("5\nhello\r\n", .invalidLineEnding),
        ("5\r\nhelloX\r\n", .missingChunkTerminator),
        ("5\r\nhello\n0\r\n\r\n", .missingChunkTerminator),
        ("0\r\nBad Name: 1\r\n\r\n", .invalidFieldName),
        ("0\r\n\n", .invalidLineEnding),
    ])
    func invalidChunkedBodiesAreRefused(_ body: String, _ error: HTTP1ParseError) {
        let events = HTTP1Feed.requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        #expect(events.last == .error(error), "\(events)")
    }

    @Test func aChunkLineThatNeverEndsIsRefused() {
        let events = HTTP1Feed.requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1" + String(repeating: ";a=b", count: 1100))
        #expect(events.last == .error(.chunkLineTooLong))
    }

    @Test func obsoleteLineFoldingIsRefused() {
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n") == [.error(.obsoleteLineFolding)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nHost: x\r\n\tfolded\r\n\r\n") == [.error(.obsoleteLineFolding)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\n Host: x\r\n\r\n") == [.error(.obsoleteLineFolding)])
    }

    @Test func badFieldLinesAreRefused() {
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nHost : x\r\n\r\n") == [.error(.invalidFieldName)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\n: x\r\n\r\n") == [.error(.invalidFieldName)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nNoColon\r\n\r\n") == [.error(.invalidFieldName)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nA: b\u{01}c\r\n\r\n") == [.error(.invalidFieldValue)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n") == [.error(.invalidFieldValue)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nA: b\u{7F}\r\n\r\n") == [.error(.invalidFieldValue)])
    }

    /// RFC 9112 §2.2 lets a recipient accept a bare LF as a line end; this proxy refuses it
    /// everywhere in a head (a lenient parser in front of a strict one is how requests are smuggled).
    @Test func bareLineFeedsAreRefused() {
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\nHost: x\n\n") == [.error(.invalidRequestLine)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nHost: x\nA: b\r\n\r\n") == [.error(.invalidLineEnding)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\nHost: x\r\n\n") == [.error(.invalidLineEnding)])
        #expect(HTTP1Feed.requests("GET / HTTP/1.1\r\n\n") == [.error(.invalidLineEnding)])
    }

    @Test func emptyLinesBeforeARequestAreIgnored() {
        #expect(HTTP1Feed.requests("\r\n\r\nGET / HTTP/1.1\r\n\r\n") == [.head("GET / 1.1 []"), .end(trailers: nil)])
        #expect(HTTP1Feed.requests("\r\rGET / HTTP/1.1\r\n\r\n") == [.error(.invalidLineEnding)])
    }

    @Test func oversizedHeadsAreRefusedCompleteOrNot() {
        let head = "GET / HTTP/1.1\r\nX: \(String(repeating: "a", count: 100))\r\n\r\n"
        let size = head.utf8.count
        #expect(HTTP1Feed.requests(head, maxHeadBytes: size) == [.head("GET / 1.1 [X=\(String(repeating: "a", count: 100))]"), .end(trailers: nil)])
        #expect(HTTP1Feed.requests(head, maxHeadBytes: size - 1) == [.error(.headTooLarge)])
        let unfinished = String(head.utf8.dropLast(2))!  // without the final empty line
        #expect(HTTP1Feed.requests(unfinished, maxHeadBytes: size - 2) == [.error(.headTooLarge)])
        #expect(HTTP1Feed.requests(unfinished, maxHeadBytes: size - 1) == [])
        #expect(HTTP1ParseError.headTooLarge.responseStatus == .requestHeaderFieldsTooLarge)
        // Trickled in byte by byte, the same.
        #expect(HTTP1Feed.requests(HTTP1Feed.splits(of: head).last!, maxHeadBytes: size - 1) == [.error(.headTooLarge)])
    }

    @Test func nothingIsParsedAfterAnError() throws {
        var parser = HTTP1RequestParser(maxHeadBytes: 1024)
        var buffer = ByteBuffer(string: "BAD\r\n\r\nGET / HTTP/1.1\r\n\r\n")
        #expect(throws: HTTP1ParseError.invalidRequestLine) { try parser.next(&buffer) }
        #expect(try parser.next(&buffer) == nil)
    }

    @Test func methodsAndFieldKindsAreRecognised() throws {
        var parser = HTTP1RequestParser(maxHeadBytes: 1024)
        var buffer = ByteBuffer(
            string: "DELETE / HTTP/1.1\r\nX-Forwarded-For: a\r\nx-request-id: r\r\nCOOKIE: c=1\r\nProxy-Connection: k\r\nTE: t\r\nX-Forwarded-Host: h\r\nX-Forwarded-Proto: p\r\n\r\n"
        )
        guard case .head(let head)? = try parser.next(&buffer) else { Issue.record("no head"); return }
        #expect(head.method == .DELETE)
        #expect(head.fields.map(\.kind) == [.xForwardedFor, .xRequestID, .cookie, .proxyConnection, .te, .xForwardedHost, .xForwardedProto])
    }
}
