import Crypto
import Foundation
import SteadfastDomain
import SteadfastServices
import Testing

/// `Stripe-Signature` verification as pure code: time is passed in, nothing sleeps.
@Suite struct StripeSignatureTests {
    static let secret = "whsec_test_0123456789abcdef"
    let verifier = StripeSignature(secret: Self.secret)
    let payload = Array(#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount":1190,"currency":"eur"}}}"#.utf8)
    let signedAt: Int64 = 1_800_000_000
    var now: Date { Date(timeIntervalSince1970: TimeInterval(signedAt)) }

    /// The reference: Python's hmac, the way Stripe documents it (an independent implementation).
    @Test func matchesAnIndependentlyComputedSignature() throws {
        let header = verifier.header(payload: payload, timestamp: signedAt)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(signedAt).".utf8) + payload, using: SymmetricKey(data: Data(Self.secret.utf8)))
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        #expect(header == "t=\(signedAt),v1=\(hex)")
        try verifier.verify(header: header, payload: payload, now: now)
    }

    @Test func wrongSecretIsRefused() {
        let forged = StripeSignature(secret: "whsec_someone_else_entirely").header(payload: payload, timestamp: signedAt)
        #expect(throws: StripeSignature.Failure.mismatch) { try verifier.verify(header: forged, payload: payload, now: now) }
    }

    @Test func alteredBodyIsRefused() {
        let header = verifier.header(payload: payload, timestamp: signedAt)
        var altered = payload
        altered[altered.count - 5] = UInt8(ascii: "9")
        #expect(throws: StripeSignature.Failure.mismatch) { try verifier.verify(header: header, payload: altered, now: now) }
    }

    @Test func theTimestampIsPartOfWhatIsSigned() {
        let header = verifier.header(payload: payload, timestamp: signedAt).replacingOccurrences(of: "t=\(signedAt)", with: "t=\(signedAt + 1)")
        #expect(throws: StripeSignature.Failure.mismatch) { try verifier.verify(header: header, payload: payload, now: now) }
    }

    @Test func toleranceWindowIsThreeHundredSecondsEitherSide() throws {
        let header = verifier.header(payload: payload, timestamp: signedAt)
        try verifier.verify(header: header, payload: payload, now: now.addingTimeInterval(300))
        try verifier.verify(header: header, payload: payload, now: now.addingTimeInterval(-300))
        #expect(throws: StripeSignature.Failure.outsideTolerance) { try verifier.verify(header: header, payload: payload, now: now.addingTimeInterval(301)) }
        #expect(throws: StripeSignature.Failure.outsideTolerance) { try verifier.verify(header: header, payload: payload, now: now.addingTimeInterval(-301)) }
        let strict = StripeSignature(secret: Self.secret, tolerance: 10)
        #expect(throws: StripeSignature.Failure.outsideTolerance) { try strict.verify(header: header, payload: payload, now: now.addingTimeInterval(11)) }
    }

    @Test func anyOfSeveralV1SignaturesMayMatch() throws {
        let good = verifier.header(payload: payload, timestamp: signedAt)
        let goodMAC = String(good.split(separator: "v1=")[1])
        let old = StripeSignature(secret: "whsec_the_rolled_old_secret").header(payload: payload, timestamp: signedAt)
        let oldMAC = String(old.split(separator: "v1=")[1])
        try verifier.verify(header: "t=\(signedAt),v1=\(oldMAC),v1=\(goodMAC)", payload: payload, now: now)
        try verifier.verify(header: "t=\(signedAt),v0=abc,v1=\(goodMAC),v1=\(oldMAC)", payload: payload, now: now)
        #expect(throws: StripeSignature.Failure.mismatch) { try verifier.verify(header: "t=\(signedAt),v1=\(oldMAC),v1=\(oldMAC)", payload: payload, now: now) }
    }

    @Test func missingOrMalformedHeadersAreRefused() {
        #expect(throws: StripeSignature.Failure.missingHeader) { try verifier.verify(header: nil, payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.missingHeader) { try verifier.verify(header: "", payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.malformedHeader) { try verifier.verify(header: "v1=\(String(repeating: "a", count: 64))", payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.malformedHeader) { try verifier.verify(header: "t=soon,v1=ab", payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.malformedHeader) { try verifier.verify(header: "garbage", payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.noSignature) { try verifier.verify(header: "t=\(signedAt)", payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.noSignature) { try verifier.verify(header: "t=\(signedAt),v1=zz", payload: payload, now: now) }
        #expect(throws: StripeSignature.Failure.malformedHeader) { try verifier.verify(header: "t=1,t=2,v1=\(String(repeating: "a", count: 64))", payload: payload, now: now) }
    }
}

/// The Stripe client's wire format and error mapping, and event parsing, without a network.
@Suite struct StripeClientTests {
    /// Records requests and answers with a canned status and body.
    final class Recorder: StripeTransport, @unchecked Sendable {
        let lock = NSLock()
        var requests: [(method: String, url: String, headers: [(String, String)], body: String)] = []
        let answer: (Int, String)
        init(_ status: Int, _ body: String) { answer = (status, body) }
        func send(method: String, url: String, headers: [(String, String)], body: [UInt8]?) async throws -> (status: Int, body: [UInt8]) {
            lock.withLock { requests.append((method, url, headers, String(decoding: body ?? [], as: UTF8.self))) }
            return (answer.0, Array(answer.1.utf8))
        }
    }

    struct Unreachable: StripeTransport {
        func send(method: String, url: String, headers: [(String, String)], body: [UInt8]?) async throws -> (status: Int, body: [UInt8]) {
            throw CancellationError()
        }
    }

    static let intentJSON = #"{"id":"pi_123","status":"succeeded","amount":1190,"currency":"eur","client_secret":"pi_123_secret_x","metadata":{}}"#

    @Test func postsAreFormEncodedAuthenticatedAndCarryTheIdempotencyKey() async throws {
        let recorder = Recorder(200, Self.intentJSON)
        let client = StripeClient(apiBase: "http://127.0.0.1:9/", secretKey: "sk_test_abc", transport: recorder)
        let intent = try await client.createPaymentIntent(
            amount: Money(minorUnits: 1190, currency: .eur), customer: "cus_1", paymentMethod: "pm_card_visa", confirm: true,
            metadata: ["invoice_id": "a b&c=d", "attempt": "k1"], idempotencyKey: "steadfast-pay-x-k1"
        )
        #expect(intent.id == "pi_123" && intent.clientSecret == "pi_123_secret_x")
        let request = try #require(recorder.requests.first)
        #expect(request.method == "POST" && request.url == "http://127.0.0.1:9/v1/payment_intents")
        #expect(request.body == "amount=1190&currency=eur&customer=cus_1&payment_method=pm_card_visa&confirm=true&metadata%5Battempt%5D=k1&metadata%5Binvoice_id%5D=a%20b%26c%3Dd")
        let headers = Dictionary(request.headers, uniquingKeysWith: { a, _ in a })
        #expect(headers["Idempotency-Key"] == "steadfast-pay-x-k1")
        #expect(headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(headers["Authorization"] == "Basic " + Data("sk_test_abc:".utf8).base64EncodedString())
    }

    @Test func errorsAreMapped() async throws {
        func kind(_ status: Int, _ body: String) async -> GatewayError.Kind? {
            let client = StripeClient(apiBase: "http://127.0.0.1:9", secretKey: "sk_test_abc", transport: Recorder(status, body))
            do { _ = try await client.paymentIntent(id: "pi_1"); return nil } catch let error as GatewayError { return error.kind } catch { return nil }
        }
        #expect(await kind(402, #"{"error":{"type":"card_error","code":"card_declined","message":"Your card was declined."}}"#) == .declined)
        // localstripe answers declines with type invalid_request_error but code card_declined.
        #expect(await kind(402, #"{"error":{"type":"invalid_request_error","code":"card_declined","message":"Your card was declined."}}"#) == .declined)
        #expect(await kind(400, #"{"error":{"type":"invalid_request_error","message":"No such payment_method"}}"#) == .rejected)
        #expect(await kind(401, "not json") == .rejected)
        #expect(await kind(429, "{}") == .unavailable)
        #expect(await kind(500, "{}") == .unavailable)
        #expect(await kind(200, "not json") == .rejected)
        let unreachable = StripeClient(apiBase: "http://127.0.0.1:9", secretKey: "sk_test_secretvalue", transport: Unreachable())
        do {
            _ = try await unreachable.paymentIntent(id: "pi_1")
            Issue.record("expected an error")
        } catch let error as GatewayError {
            #expect(error.kind == .unavailable)
            #expect(!error.message.contains("sk_test_secretvalue"))
        }
    }

    @Test func idsThatAreNotStripeIdsNeverReachAPath() async throws {
        let recorder = Recorder(200, Self.intentJSON)
        let client = StripeClient(apiBase: "http://127.0.0.1:9", secretKey: "sk_test_abc", transport: recorder)
        await #expect(throws: GatewayError.self) { _ = try await client.paymentIntent(id: "../v1/customers") }
        await #expect(throws: GatewayError.self) { _ = try await client.confirmPaymentIntent(id: "pi_1?x=1", idempotencyKey: "k") }
        #expect(recorder.requests.isEmpty)
    }

    @Test func eventsAreVerifiedThenParsed() throws {
        let gateway = StripeGateway(
            client: StripeClient(apiBase: "http://127.0.0.1:9", secretKey: "sk_test_abc", transport: Unreachable()),
            webhookSecret: StripeSignatureTests.secret, publishableKey: nil
        )
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        func event(_ type: String, _ object: String) throws -> GatewayEvent {
            let body = Array(#"{"id":"evt_9","type":"\#(type)","data":{"object":\#(object)}}"#.utf8)
            return try gateway.parseWebhook(body: body, signature: gateway.signature.header(payload: body, timestamp: 1_800_000_000), now: now)
        }
        let paid = try event("payment_intent.succeeded", #"{"id":"pi_1","amount":1190,"amount_received":1190,"currency":"eur"}"#)
        #expect(paid.kind == .paymentSucceeded(GatewayPayment(id: "pi_1", status: .succeeded, amount: Money(minorUnits: 1190, currency: .eur))))
        let failed = try event("payment_intent.payment_failed", #"{"id":"pi_1","amount":1190,"currency":"eur","last_payment_error":{"message":"declined"}}"#)
        #expect(failed.kind == .paymentFailed(GatewayPayment(id: "pi_1", status: .failed, amount: Money(minorUnits: 1190, currency: .eur), failureMessage: "declined")))
        let refunded = try event("charge.refunded", #"{"id":"ch_1","amount":1190,"amount_refunded":300,"currency":"eur","payment_intent":"pi_1"}"#)
        #expect(refunded.kind == .refunded(paymentID: "pi_1", totalRefunded: Money(minorUnits: 300, currency: .eur)))
        let disputed = try event("charge.dispute.created", #"{"id":"dp_1","amount":1190,"currency":"eur","charge":"ch_1","reason":"fraudulent"}"#)
        #expect(disputed.kind == .disputed(paymentID: "ch_1", disputeID: "dp_1", amount: Money(minorUnits: 1190, currency: .eur), reason: "fraudulent"))
        #expect(try event("customer.created", #"{"id":"cus_1"}"#).kind == .ignored)
        // Signed but not an event, and unsigned: refused before anything is read.
        let junk = Array("{}".utf8)
        #expect(throws: GatewayError(.malformed, "the event is not a Stripe event object")) {
            try gateway.parseWebhook(body: junk, signature: gateway.signature.header(payload: junk, timestamp: 1_800_000_000), now: now)
        }
        do {
            _ = try gateway.parseWebhook(body: junk, signature: nil, now: now)
            Issue.record("expected a refusal")
        } catch let error as GatewayError {
            #expect(error.kind == .badSignature)
        }
    }

    @Test func theProviderKeyIsDerivedFromInvoiceAndAttempt() {
        let invoice = UUID()
        let a = GatewayPaymentRequest(invoiceID: invoice, clientID: UUID(), amount: Money(minorUnits: 1, currency: .eur), attempt: "k1", confirm: true)
        var b = a
        b.attempt = "k2"
        #expect(a.idempotencyKey == "steadfast-pay-\(invoice.uuidString.lowercased())-k1")
        #expect(a.idempotencyKey != b.idempotencyKey)
    }
}
