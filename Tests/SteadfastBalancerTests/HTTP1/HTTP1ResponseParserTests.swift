import NIOCore
import Testing

@testable import SteadfastBalancer

@Suite("HTTP1ResponseParser")
struct HTTP1ResponseParserTests {
    @Test func lengthChunkedAndCloseDelimitedBodies() {
        #expect(
            HTTP1Feed.responses(["HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"])
                == [.head("1.1 200 [Content-Length=2]"), .body("hi"), .end(trailers: nil)]
        )
        #expect(
            HTTP1Feed.responses(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nT: v\r\n\r\n"])
                == [.head("1.1 200 [Transfer-Encoding=chunked]"), .body("hi"), .end(trailers: "T: v\r\n")]
        )
        #expect(
            HTTP1Feed.responses(["HTTP/1.0 200 OK\r\n\r\nuntil", " close"], closed: true)
                == [.head("1.0 200 [] close"), .body("until close"), .end(trailers: nil)]
        )
    }

    @Test func headAnswersAnd204And304HaveNoBody() {
        #expect(
            HTTP1Feed.responses(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"], toHEAD: [true, false])
                == [.head("1.1 200 [Content-Length=10]"), .end(trailers: nil), .head("1.1 204 []"), .end(trailers: nil)]
        )
        #expect(HTTP1Feed.responses(["HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n"]) == [.head("1.1 304 [Content-Length=5]"), .end(trailers: nil)])
    }

    @Test func informationalHeadsComeBeforeTheFinalOne() {
        #expect(
            HTTP1Feed.responses(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"])
                == [.head("1.1 100 []"), .head("1.1 103 [Link=</a>]"), .head("1.1 201 [Content-Length=0]"), .end(trailers: nil)]
        )
    }

    @Test func aResponseCutShortIsAnError() {
        #expect(HTTP1Feed.responses(["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi"], closed: true) == [.head("1.1 200 [Content-Length=5]"), .body("hi"), .error(.truncatedMessage)])
        #expect(HTTP1Feed.responses(["HTTP/1.1 200 OK\r\n"], closed: true) == [.error(.truncatedMessage)])
        #expect(HTTP1Feed.responses([""], closed: true).isEmpty == false)
    }

    @Test(arguments: [
        ("HTTP/1.1 20 OK\r\n\r\n", HTTP1ParseError.invalidStatusLine),
        ("HTTP/1.1 099 X\r\n\r\n", .invalidStatusLine),
        ("HTTP/1.1 200 O\u{01}K\r\n\r\n", .invalidStatusLine),
        ("HTTP/2.0 200 OK\r\n\r\n", .unsupportedVersion),
        ("HTTP/1.1 200 OK\nA: b\r\n\r\n", .invalidLineEnding),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", .contentLengthWithTransferEncoding),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 3\r\n\r\n", .duplicateContentLength),
        ("HTTP/1.1 200 OK\r\nA: b\r\n  c\r\n\r\n", .obsoleteLineFolding),
    ])
    func malformedResponsesAreRefused(_ text: String, _ error: HTTP1ParseError) {
        #expect(HTTP1Feed.responses([text]) == [.error(error)])
    }

    @Test func aStatusLineWithoutReasonIsFine() {
        #expect(HTTP1Feed.responses(["HTTP/1.1 204\r\n\r\n"]) == [.head("1.1 204 []"), .end(trailers: nil)])
    }

    @Test func partialReadsSplitAtEveryBytePositionGiveTheSameEvents() {
        let text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
            + "4\r\nabcd\r\n11;e=1\r\n0123456789abcdefg\r\n0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop"
        let whole = HTTP1Feed.responses([text], toHEAD: [false, false])
        #expect(whole.count == 7)
        for pieces in HTTP1Feed.splits(of: text) {
            let split = HTTP1Feed.responses(pieces, toHEAD: [false, false])
            #expect(split == whole, "cut \(pieces.map(\.utf8.count))")
            if split != whole { break }
        }
    }

    @Test func bytesBeforeAnyRequestStayUnread() throws {
        var parser = HTTP1ResponseParser()
        var buffer = ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n")
        #expect(try parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == 19)
        #expect(parser.isIdle)
    }

    @Test func chunkFramingIsWrittenInLowercaseHex() {
        let allocator = ByteBufferAllocator()
        #expect(String(buffer: HTTP1ChunkedEncoding.chunkHeader(size: 1, allocator: allocator)) == "1\r\n")
        #expect(String(buffer: HTTP1ChunkedEncoding.chunkHeader(size: 0x10000, allocator: allocator)) == "10000\r\n")
        #expect(String(buffer: HTTP1ChunkedEncoding.chunkHeader(size: 0xABCDEF, allocator: allocator)) == "abcdef\r\n")
        #expect(String(buffer: HTTP1ChunkedEncoding.lastChunk(trailers: nil, allocator: allocator)) == "0\r\n\r\n")
        #expect(String(buffer: HTTP1ChunkedEncoding.lastChunk(trailers: ByteBuffer(string: "T: 1\r\n"), allocator: allocator)) == "0\r\nT: 1\r\n\r\n")
    }
}
