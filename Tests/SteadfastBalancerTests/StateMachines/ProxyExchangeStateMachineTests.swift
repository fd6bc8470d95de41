import NIOCore
import NIOHTTP1
import Testing

@testable import SteadfastBalancer

/// Scenario tests of ``ProxyExchangeStateMachine``: one per row of its transition table (and the
/// invalid event orders), driving it as ``ClientConnectionHandler`` does, with time passed in.
@Suite("ProxyExchangeStateMachine")
struct ProxyExchangeStateMachineTests {
    typealias Machine = ProxyExchangeStateMachine

    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    static let serverA = choice("a")
    static let serverB = choice("b")

    static func choice(_ name: String, sticky: Bool = false) -> BalancerStateMachine.Choice {
        BalancerStateMachine.Choice(name: name, address: try! SocketAddress(ipAddress: "127.0.0.1", port: 1), stickyHonoured: sticky)
    }

    static func machine(
        maxBodyBytes: Int = 1000,
        replayBodyBytes: Int = 100,
        maxAttempts: Int = 3,
        sticky: Bool = false
    ) -> Machine {
        Machine(
            configuration: .init(
                maxBodyBytes: maxBodyBytes,
                replayBodyBytes: replayBodyBytes,
                maxAttempts: maxAttempts,
                backendTimeout: .seconds(30),
                stickyEnabled: sticky
            )
        )
    }

    static func bytes(_ string: String) -> ByteBuffer { ByteBuffer(string: string) }

    static func head(
        _ method: HTTPMethod = .GET,
        version: HTTPVersion = .http1_1,
        keepAlive: Bool = true,
        contentLength: Int? = nil,
        chunked: Bool = false,
        sticky: String? = nil
    ) -> Machine.RequestHead {
        Machine.RequestHead(
            method: method,
            version: version,
            keepAlive: keepAlive,
            contentLength: contentLength,
            chunked: chunked,
            forwardHead: bytes("\(method.rawValue) / HTTP/1.1\r\n\r\n"),
            stickyServer: sticky
        )
    }

    static func response(
        _ status: Int = 200,
        keepAlive: Bool = true,
        contentLength: Bool = true,
        chunked: Bool = false,
        forbidsBody: Bool = false
    ) -> Machine.ResponseHead {
        Machine.ResponseHead(status: status, keepAlive: keepAlive, hasContentLength: contentLength, chunked: chunked, statusForbidsBody: forbidsBody)
    }

    static func end(close: Bool = false, report: Machine.Report?) -> Machine.AttemptEnd {
        Machine.AttemptEnd(closeBackend: close, report: report)
    }

    static func report(_ server: String, _ outcome: BalancerStateMachine.RequestOutcome) -> Machine.Report {
        Machine.Report(server: server, outcome: outcome)
    }

    /// A machine with `head` received, server `a` picked and connected (attempt 1).
    static func connected(
        _ head: Machine.RequestHead = head(),
        machine: Machine = machine(),
        endRequest: Bool = true
    ) -> Machine {
        var machine = machine
        _ = machine.requestHeadReceived(head, now: t0)
        #expect(machine.serverPicked(.forward(serverA), now: t0) == .connect(server: serverA, attemptID: 1))
        guard case .sendRequest = machine.backendConnected(attemptID: 1) else {
            Issue.record("not connected")
            return machine
        }
        if endRequest { #expect(machine.requestEndReceived(trailers: nil) == .writeRequestEnd(chunked: head.chunked, trailers: nil)) }
        return machine
    }

    static func isIdle(_ machine: Machine) -> Bool {
        if case .idle = machine.state { return true }
        return false
    }

    static func isClosed(_ machine: Machine) -> Bool {
        if case .closed = machine.state { return true }
        return false
    }

    // MARK: idle

    @Test func aHeadStartsAnExchangeByAskingForAServer() {
        var machine = Self.machine()
        #expect(machine.readPolicy == .read)
        #expect(machine.mayParseRequest)
        #expect(
            machine.requestHeadReceived(Self.head(sticky: "b"), now: Self.t0)
                == .pickServer(sticky: "b", excluding: [], isRetry: false)
        )
        #expect(machine.hasAttemptInFlight == false)
        #expect(machine.readPolicy == .hold, "a body has nowhere to go before a backend is connected")
    }

    @Test func aDeclaredBodyOverTheLimitIsRefusedBeforeAnyServerIsAsked() {
        var machine = Self.machine(maxBodyBytes: 10)
        #expect(machine.requestHeadReceived(Self.head(.POST, contentLength: 11), now: Self.t0) == .reject(.payloadTooLarge))
        #expect(Self.isClosed(machine))
        #expect(machine.requestHeadReceived(Self.head(), now: Self.t0) == .none, "nothing after it is read")
        var exact = Self.machine(maxBodyBytes: 10)
        #expect(exact.requestHeadReceived(Self.head(.POST, contentLength: 10), now: Self.t0) == .pickServer(sticky: nil, excluding: [], isRetry: false))
    }

    @Test func aMalformedRequestBetweenRequestsIsRefusedAndTheConnectionClosed() {
        var machine = Self.machine()
        #expect(machine.requestParseFailed(.badRequest) == .reject(.badRequest))
        #expect(Self.isClosed(machine))
        #expect(machine.mayParseRequest == false)
        #expect(machine.requestParseFailed(.badRequest) == .none)
    }

    @Test func quiescingAnIdleConnectionClosesIt() {
        var machine = Self.machine()
        #expect(machine.quiesce() == .closeClient)
        #expect(Self.isClosed(machine))
        #expect(machine.quiesce() == .none)
    }

    @Test func eventsThatCannotHappenWhileIdleAreDefined() {
        var body = Self.machine()
        #expect(body.requestBodyReceived(Self.bytes("x"), now: Self.t0) == .closeClient)
        #expect(Self.isClosed(body))
        var end = Self.machine()
        #expect(end.requestEndReceived(trailers: nil) == .closeClient)
        var stale = Self.machine()
        #expect(stale.backendConnected(attemptID: 7) == .releaseStaleBackend)
        #expect(stale.backendConnectFailed(attemptID: 7) == .none)
        #expect(stale.backendTimerFired(now: Self.t0) == .none)
        #expect(stale.backendClosed() == .none)
        #expect(stale.requestHeadWritten(attemptID: 7) == .none)
        #expect(Self.isIdle(stale), "late reports of an old attempt leave an idle connection alone")
        var response = Self.machine()
        #expect(response.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0) == .closeClient)
        var pick = Self.machine()
        #expect(pick.serverPicked(.forward(Self.serverA), now: Self.t0) == .closeClient)
        var budget = Self.machine()
        #expect(budget.retryBudgetDecided(granted: true, now: Self.t0) == .closeClient)
        var closed = Self.machine()
        #expect(closed.clientClosed() == .none)
        #expect(Self.isClosed(closed))
        var error = Self.machine()
        #expect(error.clientError() == .closeClient)
    }

    // MARK: choosing a server and connecting

    @Test func noServerForTheFirstAttemptIs503() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(), now: Self.t0)
        #expect(
            machine.serverPicked(.noServerAvailable, now: Self.t0)
                == .endAttempt(Self.end(report: nil), then: .respond(.init(status: .serviceUnavailable, version: .http1_1, close: true)))
        )
        #expect(Self.isClosed(machine), "the request had not ended, so its connection closes")
    }

    @Test func noServerAfterTheRequestEndedKeepsAKeepAliveConnection() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(), now: Self.t0)
        _ = machine.serverPicked(.forward(Self.serverA), now: Self.t0)
        #expect(machine.requestEndReceived(trailers: nil) == .none)
        #expect(
            machine.backendConnectFailed(attemptID: 1)
                == .endAttempt(
                    Self.end(report: Self.report("a", .connectFailed)),
                    then: .pickServer(sticky: nil, excluding: ["a"], isRetry: true)
                )
        )
        #expect(
            machine.serverPicked(.noServerAvailable, now: Self.t0)
                == .endAttempt(Self.end(report: nil), then: .respond(.init(status: .serviceUnavailable, version: .http1_1, close: false))),
            "a retry after connect failures with no server left: 503"
        )
        #expect(Self.isIdle(machine))
    }

    @Test func noServerForARetryAfterALostBackendIs502() {
        var machine = Self.connected()
        #expect(
            machine.backendClosed()
                == .endAttempt(Self.end(close: true, report: Self.report("a", .broken)), then: .askRetryBudget)
        )
        #expect(machine.retryBudgetDecided(granted: true, now: Self.t0) == .pickServer(sticky: nil, excluding: ["a"], isRetry: true))
        #expect(
            machine.serverPicked(.noServerAvailable, now: Self.t0)
                == .endAttempt(Self.end(report: nil), then: .respond(.init(status: .badGateway, version: .http1_1, close: false)))
        )
    }

    @Test func aConnectionSendsTheHeadAndWhatWasHeld() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(.PUT, contentLength: 6), now: Self.t0)
        #expect(machine.serverPicked(.forward(Self.serverA), now: Self.t0) == .connect(server: Self.serverA, attemptID: 1))
        #expect(machine.hasAttemptInFlight)
        #expect(machine.currentServer == "a")
        #expect(machine.requestBodyReceived(Self.bytes("abc"), now: Self.t0) == .none, "held until connected")
        #expect(machine.requestBodyReceived(Self.bytes("def"), now: Self.t0) == .none)
        #expect(machine.requestEndReceived(trailers: nil) == .none)
        #expect(machine.mayParseRequest == false, "pipelined bytes wait for the response")
        #expect(machine.readPolicy == .holdWhilePipelinedBytesWait)
        #expect(
            machine.backendConnected(attemptID: 1)
                == .sendRequest(
                    .init(
                        head: Self.bytes("PUT / HTTP/1.1\r\n\r\n"),
                        toHEAD: false,
                        reportHeadWritten: false,
                        attemptID: 1,
                        body: [Self.bytes("abc"), Self.bytes("def")],
                        end: true,
                        chunked: false,
                        trailers: nil
                    )
                )
        )
    }

    @Test func aChunkedRequestCarriesItsTrailersToTheBackend() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(.POST, chunked: true), now: Self.t0)
        _ = machine.serverPicked(.forward(Self.serverA), now: Self.t0)
        let trailers = Self.bytes("x-sum: 1\r\n")
        #expect(machine.requestEndReceived(trailers: trailers) == .none)
        guard case .sendRequest(let write) = machine.backendConnected(attemptID: 1) else {
            Issue.record("no request written")
            return
        }
        #expect(write.chunked && write.end && write.trailers == trailers)
        #expect(write.reportHeadWritten, "a POST needs to know whether its head left")
    }

    @Test func aConnectionForAnAttemptGivenUpIsReleased() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(), now: Self.t0)
        _ = machine.serverPicked(.forward(Self.serverA), now: Self.t0)
        #expect(
            machine.clientClosed() == .endAttempt(Self.end(report: Self.report("a", .abandoned)), then: .none),
            "a connecting attempt is reported abandoned; there is no backend to close yet"
        )
        #expect(machine.backendConnected(attemptID: 1) == .releaseStaleBackend)
    }

    @Test func attemptIDsAreNeverReusedOnAConnection() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(), now: Self.t0)
        _ = machine.serverPicked(.forward(Self.serverA), now: Self.t0)
        _ = machine.requestEndReceived(trailers: nil)
        // The first attempt's connect is slow; the timer gives up on it (504 keeps the connection).
        _ = machine.backendTimerFired(now: Self.t0 + .seconds(31))
        #expect(Self.isIdle(machine))
        _ = machine.requestHeadReceived(Self.head(), now: Self.t0)
        #expect(machine.serverPicked(.forward(Self.serverB), now: Self.t0) == .connect(server: Self.serverB, attemptID: 2))
        #expect(machine.backendConnected(attemptID: 1) == .releaseStaleBackend, "the old attempt's late connection")
        #expect(machine.backendConnectFailed(attemptID: 1) == .none)
        guard case .sendRequest = machine.backendConnected(attemptID: 2) else {
            Issue.record("the current attempt must connect")
            return
        }
    }

    @Test func connectFailuresAreRetriedElsewhereUntilAttemptsRunOut() {
        var machine = Self.machine(maxAttempts: 2)
        _ = machine.requestHeadReceived(Self.head(.POST), now: Self.t0)
        _ = machine.serverPicked(.forward(Self.serverA), now: Self.t0)
        #expect(
            machine.backendConnectFailed(attemptID: 1)
                == .endAttempt(Self.end(report: Self.report("a", .connectFailed)), then: .pickServer(sticky: nil, excluding: ["a"], isRetry: true)),
            "even a POST: nothing reached a backend"
        )
        #expect(machine.serverPicked(.forward(Self.serverB), now: Self.t0) == .connect(server: Self.serverB, attemptID: 2))
        #expect(
            machine.backendConnectFailed(attemptID: 2)
                == .endAttempt(
                    Self.end(report: Self.report("b", .connectFailed)),
                    then: .respond(.init(status: .serviceUnavailable, version: .http1_1, close: true))
                )
        )
    }

    // MARK: a non-idempotent request and its head

    @Test func aPostWhoseHeadLeftIsNeverResent() {
        var machine = Self.connected(Self.head(.POST))
        #expect(machine.requestHeadWritten(attemptID: 1) == .none)
        #expect(
            machine.backendClosed()
                == .endAttempt(
                    Self.end(close: true, report: Self.report("a", .broken)),
                    then: .respond(.init(status: .badGateway, version: .http1_1, close: false))
                )
        )
    }

    @Test func aPostOnAStaleConnectionThatNeverTookTheHeadIsRetried() {
        var machine = Self.connected(Self.head(.POST))
        #expect(
            machine.backendClosed()
                == .endAttempt(
                    Self.end(close: true, report: Self.report("a", .connectFailed)),
                    then: .pickServer(sticky: nil, excluding: ["a"], isRetry: true)
                )
        )
    }

    @Test func aHeadWrittenReportOfAnOldAttemptChangesNothing() {
        var machine = Self.connected(Self.head(.POST))
        #expect(machine.requestHeadWritten(attemptID: 99) == .none)
        #expect(
            machine.backendClosed() == .endAttempt(Self.end(close: true, report: Self.report("a", .connectFailed)), then: .pickServer(sticky: nil, excluding: ["a"], isRetry: true))
        )
    }

    // MARK: the request body

    @Test func bodyPartsGoStraightToAConnectedBackend() {
        var machine = Self.connected(Self.head(.PUT, contentLength: 4), endRequest: false)
        #expect(machine.readPolicy == .holdUnlessBackendWritable)
        #expect(machine.requestBodyReceived(Self.bytes("ab"), now: Self.t0) == .writeRequestBody(Self.bytes("ab"), chunked: false))
        #expect(machine.requestEndReceived(trailers: nil) == .writeRequestEnd(chunked: false, trailers: nil))
        #expect(machine.requestEndReceived(trailers: nil) == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient), "a second end cannot happen")
    }

    @Test func aBodyGrowingPastTheLimitIs413BeforeTheResponse() {
        var machine = Self.connected(Self.head(.POST, chunked: true), machine: Self.machine(maxBodyBytes: 5), endRequest: false)
        #expect(machine.requestBodyReceived(Self.bytes("12345"), now: Self.t0) == .writeRequestBody(Self.bytes("12345"), chunked: true))
        #expect(
            machine.requestBodyReceived(Self.bytes("6"), now: Self.t0)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .reject(.payloadTooLarge))
        )
        #expect(Self.isClosed(machine))
    }

    @Test func aBodyGrowingPastTheLimitAfterTheResponseStartedCutsTheConnection() {
        var machine = Self.connected(Self.head(.POST, chunked: true), machine: Self.machine(maxBodyBytes: 5), endRequest: false)
        _ = machine.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
        #expect(
            machine.requestBodyReceived(Self.bytes("123456"), now: Self.t0)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient)
        )
    }

    @Test func aMalformedBodyIs400OrACutConnection() {
        var before = Self.connected(Self.head(.POST, chunked: true), endRequest: false)
        #expect(
            before.requestParseFailed(.badRequest)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .reject(.badRequest))
        )
        var after = Self.connected(Self.head(.POST, chunked: true), endRequest: false)
        _ = after.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
        #expect(after.requestParseFailed(.badRequest) == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient))
    }

    @Test func eventsOfTheWrongAttemptPhaseCloseTheConnection() {
        var pick = Self.connected()
        #expect(
            pick.serverPicked(.forward(Self.serverB), now: Self.t0)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient)
        )
        #expect(Self.isClosed(pick))
        var budget = Self.connected()
        #expect(
            budget.retryBudgetDecided(granted: true, now: Self.t0)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient)
        )
        var connecting = Self.machine()
        _ = connecting.requestHeadReceived(Self.head(), now: Self.t0)
        _ = connecting.serverPicked(.forward(Self.serverA), now: Self.t0)
        #expect(connecting.backendClosed() == .none, "no backend connection yet")
        #expect(connecting.requestHeadWritten(attemptID: 1) == .none)
        #expect(
            connecting.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
                == .endAttempt(Self.end(report: Self.report("a", .abandoned)), then: .closeClient)
        )
        var choosing = Self.machine()
        _ = choosing.requestHeadReceived(Self.head(), now: Self.t0)
        #expect(choosing.backendConnectFailed(attemptID: 1) == .none)
        #expect(choosing.responseEndReceived(now: Self.t0) == .endAttempt(Self.end(report: nil), then: .closeClient))
    }

    @Test func aSecondHeadDuringAnExchangeClosesTheConnection() {
        var machine = Self.connected()
        #expect(
            machine.requestHeadReceived(Self.head(), now: Self.t0)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient)
        )
        #expect(Self.isClosed(machine))
    }

    // MARK: the response

    @Test func informationalResponsesGoToHTTP11ClientsOnly() {
        var machine = Self.connected(Self.head(.POST), endRequest: false)
        #expect(machine.responseHeadReceived(Self.response(100), bodyEndsWithConnection: false, now: Self.t0) == .forwardInformational(clientVersion: .http1_1))
        #expect(machine.requestBodyReceived(Self.bytes("x"), now: Self.t0) == .writeRequestBody(Self.bytes("x"), chunked: false), "the body follows 100 Continue")
        var old = Self.connected(Self.head(.POST, version: .http1_0, keepAlive: false))
        #expect(old.responseHeadReceived(Self.response(100), bodyEndsWithConnection: false, now: Self.t0) == .none)
    }

    @Test func anUpgradeIsRefusedAsABrokenExchange() {
        var machine = Self.connected(Self.head(.POST))
        _ = machine.requestHeadWritten(attemptID: 1)
        #expect(
            machine.responseHeadReceived(Self.response(101), bodyEndsWithConnection: false, now: Self.t0)
                == .endAttempt(
                    Self.end(close: true, report: Self.report("a", .broken)),
                    then: .respond(.init(status: .badGateway, version: .http1_1, close: false))
                )
        )
    }

    @Test func aFinalHeadIsForwardedWithTheFramingTheClientUnderstands() {
        func plan(_ head: Machine.RequestHead, _ response: Machine.ResponseHead, endsWithConnection: Bool = false) -> Machine.ResponsePlan? {
            var machine = Self.connected(head)
            guard case .forwardResponseHead(let plan) = machine.responseHeadReceived(response, bodyEndsWithConnection: endsWithConnection, now: Self.t0) else {
                return nil
            }
            return plan
        }
        #expect(
            plan(Self.head(), Self.response()) == .init(clientVersion: .http1_1, keepAlive: true, chunked: false, framing: .asReceived, stickyServer: nil)
        )
        #expect(
            plan(Self.head(), Self.response(contentLength: false, chunked: true))
                == .init(clientVersion: .http1_1, keepAlive: true, chunked: true, framing: .chunked, stickyServer: nil)
        )
        #expect(
            plan(Self.head(), Self.response(keepAlive: false, contentLength: false), endsWithConnection: true)
                == .init(clientVersion: .http1_1, keepAlive: true, chunked: true, framing: .chunked, stickyServer: nil),
            "a body delimited by the backend's close is chunked for an HTTP/1.1 client"
        )
        #expect(
            plan(Self.head(version: .http1_0), Self.response(contentLength: false, chunked: true))
                == .init(clientVersion: .http1_0, keepAlive: false, chunked: false, framing: .asReceived, stickyServer: nil),
            "an HTTP/1.0 client gets a body without a length delimited by the close"
        )
        #expect(
            plan(Self.head(.HEAD), Self.response(contentLength: false, chunked: true))
                == .init(clientVersion: .http1_1, keepAlive: true, chunked: true, framing: .asReceived, stickyServer: nil),
            "a HEAD answer keeps the field it describes, but no body follows"
        )
        #expect(
            plan(Self.head(), Self.response(204, contentLength: false, forbidsBody: true))
                == .init(clientVersion: .http1_1, keepAlive: true, chunked: false, framing: .asReceived, stickyServer: nil)
        )
        #expect(
            plan(Self.head(), Self.response(), endsWithConnection: false)?.keepAlive == true
        )
    }

    @Test func aStickyCookieIsSetWhenTheRequestWasNotStuckToTheServer() {
        var machine = Self.connected(machine: Self.machine(sticky: true))
        guard case .forwardResponseHead(let plan) = machine.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0) else {
            Issue.record("no head")
            return
        }
        #expect(plan.stickyServer == "a")
        var honoured = Self.machine(sticky: true)
        _ = honoured.requestHeadReceived(Self.head(sticky: "s"), now: Self.t0)
        _ = honoured.serverPicked(.forward(Self.choice("s", sticky: true)), now: Self.t0)
        _ = honoured.backendConnected(attemptID: 1)
        guard case .forwardResponseHead(let stuck) = honoured.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0) else {
            Issue.record("no head")
            return
        }
        #expect(stuck.stickyServer == nil)
    }

    @Test func bodyBytesFollowTheFramingOfTheHead() {
        var machine = Self.connected()
        _ = machine.responseHeadReceived(Self.response(contentLength: false, chunked: true), bodyEndsWithConnection: false, now: Self.t0)
        #expect(machine.responseBodyReceived(now: Self.t0) == .forwardResponseBody(chunked: true))
        var plain = Self.connected()
        _ = plain.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
        #expect(plain.responseBodyReceived(now: Self.t0) == .forwardResponseBody(chunked: false))
    }

    @Test func aBodyOrEndBeforeAnyHeadIsABrokenBackend() {
        var body = Self.connected()
        #expect(
            body.responseBodyReceived(now: Self.t0) == .endAttempt(Self.end(close: true, report: Self.report("a", .broken)), then: .askRetryBudget)
        )
        var end = Self.connected()
        #expect(end.responseEndReceived(now: Self.t0) == .endAttempt(Self.end(close: true, report: Self.report("a", .broken)), then: .askRetryBudget))
        var twice = Self.connected()
        _ = twice.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
        #expect(
            twice.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
                == .endAttempt(Self.end(close: true, report: Self.report("a", .broken)), then: .closeClient)
        )
    }

    @Test func aCompleteResponseOnAKeepAliveConnectionWaitsForTheNextRequest() {
        var machine = Self.connected()
        _ = machine.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
        #expect(
            machine.responseEndReceived(now: Self.t0)
                == .finishResponse(
                    .init(
                        report: Self.report("a", .response(status: 200)),
                        status: 200,
                        releaseBackend: true,
                        lastChunk: false,
                        closeClient: false,
                        spareHead: Self.bytes("GET / HTTP/1.1\r\n\r\n")
                    )
                )
        )
        #expect(Self.isIdle(machine))
        #expect(machine.requestHeadReceived(Self.head(), now: Self.t0) == .pickServer(sticky: nil, excluding: [], isRetry: false), "the next pipelined request")
        #expect(machine.serverPicked(.forward(Self.serverA), now: Self.t0) == .connect(server: Self.serverA, attemptID: 2))
    }

    @Test func theConnectionClosesAfterTheResponseWhenKeepAliveEnds() {
        func finish(_ machine: inout Machine, _ response: Machine.ResponseHead = Self.response()) -> Machine.ResponseEnd? {
            _ = machine.responseHeadReceived(response, bodyEndsWithConnection: false, now: Self.t0)
            guard case .finishResponse(let end) = machine.responseEndReceived(now: Self.t0) else { return nil }
            return end
        }
        var noKeepAlive = Self.connected(Self.head(keepAlive: false))
        #expect(finish(&noKeepAlive)?.closeClient == true)
        #expect(Self.isClosed(noKeepAlive))
        var bodyStillComing = Self.connected(Self.head(.POST, contentLength: 10), endRequest: false)
        let cut = finish(&bodyStillComing)
        #expect(cut?.closeClient == true, "a client still sending a body nobody needs is cut off")
        #expect(cut?.releaseBackend == false, "a backend that did not get the whole request is not reused")
        var backendCloses = Self.connected()
        #expect(finish(&backendCloses, Self.response(keepAlive: false))?.releaseBackend == false)
        var chunked = Self.connected()
        #expect(finish(&chunked, Self.response(contentLength: false, chunked: true))?.lastChunk == true)
        var quiesced = Self.connected()
        #expect(quiesced.quiesce() == .none, "the response in flight finishes")
        #expect(finish(&quiesced)?.closeClient == true)
        #expect(quiesced.requestHeadReceived(Self.head(), now: Self.t0) == .none)
    }

    @Test func quiescingBeforeTheHeadTurnsKeepAliveOffInTheResponse() {
        var machine = Self.connected()
        _ = machine.quiesce()
        guard case .forwardResponseHead(let plan) = machine.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0) else {
            Issue.record("no head")
            return
        }
        #expect(plan.keepAlive == false)
    }

    // MARK: the backend failing

    @Test func aBackendDyingMidResponseCutsTheClient() {
        var machine = Self.connected()
        _ = machine.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0)
        _ = machine.responseBodyReceived(now: Self.t0)
        #expect(machine.backendClosed() == .endAttempt(Self.end(close: true, report: Self.report("a", .broken)), then: .closeClient))
        #expect(Self.isClosed(machine))
        #expect(machine.backendClosed() == .none)
        #expect(machine.responseBodyReceived(now: Self.t0) == .none, "closed ignores everything")
    }

    @Test func anIdempotentRequestLostOnceIsRetriedWithBudgetAndItsBodyReplayed() {
        var machine = Self.connected(Self.head(.PUT, contentLength: 4), endRequest: false)
        _ = machine.requestBodyReceived(Self.bytes("ab"), now: Self.t0)
        _ = machine.requestBodyReceived(Self.bytes("cd"), now: Self.t0)
        #expect(machine.backendClosed() == .endAttempt(Self.end(close: true, report: Self.report("a", .broken)), then: .askRetryBudget))
        #expect(machine.readPolicy == .hold)
        #expect(machine.retryBudgetDecided(granted: true, now: Self.t0) == .pickServer(sticky: nil, excluding: ["a"], isRetry: true))
        _ = machine.requestEndReceived(trailers: nil)
        #expect(machine.serverPicked(.forward(Self.serverB), now: Self.t0) == .connect(server: Self.serverB, attemptID: 2))
        guard case .sendRequest(let write) = machine.backendConnected(attemptID: 2) else {
            Issue.record("no replay")
            return
        }
        #expect(write.body == [Self.bytes("ab"), Self.bytes("cd")])
        #expect(write.end)
    }

    @Test func noRetryBudgetMeans502() {
        var machine = Self.connected()
        _ = machine.backendClosed()
        #expect(
            machine.retryBudgetDecided(granted: false, now: Self.t0)
                == .endAttempt(Self.end(report: nil), then: .respond(.init(status: .badGateway, version: .http1_1, close: false)))
        )
    }

    @Test func aBodyTooLargeToReplayIsNotRetried() {
        var machine = Self.connected(Self.head(.PUT, contentLength: 150), machine: Self.machine(replayBodyBytes: 100), endRequest: false)
        _ = machine.requestBodyReceived(ByteBuffer(repeating: 1, count: 150), now: Self.t0)
        _ = machine.requestEndReceived(trailers: nil)
        #expect(
            machine.backendClosed()
                == .endAttempt(
                    Self.end(close: true, report: Self.report("a", .broken)),
                    then: .respond(.init(status: .badGateway, version: .http1_1, close: false))
                )
        )
    }

    @Test func aRequestThatKillsTwoBackendsIsPoisoned() {
        var machine = Self.connected()
        _ = machine.backendClosed()
        _ = machine.retryBudgetDecided(granted: true, now: Self.t0)
        _ = machine.serverPicked(.forward(Self.serverB), now: Self.t0)
        _ = machine.backendConnected(attemptID: 2)
        #expect(
            machine.backendClosed()
                == .endAttempt(
                    Self.end(close: true, report: Self.report("b", .broken)),
                    then: .poisoned(.init(status: .badGateway, version: .http1_1, close: false), servers: ["a", "b"])
                )
        )
        #expect(Self.isIdle(machine))
    }

    // MARK: the backend timeout

    @Test func theBackendTimerRearmsWhileTheBackendShowsLife() {
        var machine = Self.connected()
        #expect(machine.backendTimerFired(now: Self.t0 + .seconds(10)) == .rearmBackendTimer(at: Self.t0 + .seconds(30)))
        _ = machine.responseHeadReceived(Self.response(), bodyEndsWithConnection: false, now: Self.t0 + .seconds(20))
        #expect(machine.backendTimerFired(now: Self.t0 + .seconds(30)) == .rearmBackendTimer(at: Self.t0 + .seconds(50)))
        #expect(
            machine.backendTimerFired(now: Self.t0 + .seconds(50))
                == .endAttempt(Self.end(close: true, report: Self.report("a", .timedOut)), then: .closeClient),
            "silence after the response started: a cut connection"
        )
    }

    @Test func aSilentBackendIs504() {
        var machine = Self.connected()
        #expect(
            machine.backendTimerFired(now: Self.t0 + .seconds(30))
                == .endAttempt(
                    Self.end(close: true, report: Self.report("a", .timedOut)),
                    then: .respond(.init(status: .gatewayTimeout, version: .http1_1, close: false))
                )
        )
    }

    @Test func aRequestBodyInProgressCountsAsActivity() {
        var machine = Self.connected(Self.head(.PUT, contentLength: 2), endRequest: false)
        _ = machine.requestBodyReceived(Self.bytes("a"), now: Self.t0 + .seconds(25))
        #expect(machine.backendTimerFired(now: Self.t0 + .seconds(30)) == .rearmBackendTimer(at: Self.t0 + .seconds(55)))
    }

    @Test func theTimerDoesNothingWithoutAnAttemptInFlight() {
        var machine = Self.machine()
        _ = machine.requestHeadReceived(Self.head(), now: Self.t0)
        #expect(machine.backendTimerFired(now: Self.t0 + .seconds(100)) == .none, "still choosing a server")
    }

    // MARK: the client going away

    @Test func aClientThatLeavesAbandonsTheAttempt() {
        var machine = Self.connected()
        #expect(machine.clientClosed() == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .none))
        #expect(Self.isClosed(machine))
        #expect(machine.clientClosed() == .none)
        var error = Self.connected()
        #expect(error.clientError() == .endAttempt(Self.end(close: true, report: Self.report("a", .abandoned)), then: .closeClient))
        #expect(error.clientError() == .none)
    }

    @Test func aClientThatLeavesDuringTheRetryBudgetQuestionReportsNothingTwice() {
        var machine = Self.connected()
        _ = machine.backendClosed()
        #expect(machine.clientClosed() == .endAttempt(Self.end(report: nil), then: .none), "the lost attempt was reported already")
        #expect(machine.retryBudgetDecided(granted: true, now: Self.t0) == .none)
    }
}
