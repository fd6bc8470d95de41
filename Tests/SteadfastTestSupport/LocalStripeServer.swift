import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A real fake of Stripe's API for tests: `localstripe` (PyPI, installed by scripts/test.sh) on
/// 127.0.0.1 at a free port, a ``ManagedProcess`` like the other test servers (killed by PID
/// when the test is done, or when released). Start waits at most 30 s.
///
/// `localstripe --port P` binds every interface and pickles its store to a fixed
/// `/tmp/localstripe.pickle` after each POST (shared by every instance on the machine), so the
/// harness runs localstripe's own aiohttp app from a few lines of Python instead: bound to
/// 127.0.0.1 only, from scratch, with the pickling turned off. Any `sk_test_...` key is accepted.
public final class LocalStripeServer: Sendable {
    public static let secretKey = "sk_test_steadfast_live_tests"

    public let port: Int
    public var pid: Int32 { process.pid }
    /// `http://127.0.0.1:<port>`: what `billing.stripe.api_base` points at.
    public var apiBase: String { "http://127.0.0.1:\(port)" }
    private let process: ManagedProcess
    /// Where its output goes; removed by ``stop()``.
    private let directory: URL

    static let launcher = """
        import json, logging, os, re, signal, socket, sys
        from aiohttp import web
        from localstripe import server
        server.store.dump_to_disk = lambda: None
        # A fault for tests: kill a process (by PID) right after localstripe has answered one
        # chosen request, before the answer is sent: "Stripe accepted it, the caller died".
        armed = {}
        @web.middleware
        async def kill_after(request, handler):
            response = await handler(request)
            rule = armed.get("rule")
            if rule and request.method == rule[0] and re.fullmatch(rule[1], request.path):
                armed.clear()
                os.kill(rule[2], signal.SIGKILL)
            return response
        async def arm(request):
            data = await request.post()
            armed["rule"] = (data["method"], data["path"], int(data["pid"]))
            return web.Response()
        server.app.middlewares.append(kill_after)
        server.app.router.add_post("/_config/steadfast/kill-after", arm)
        # The card element's part of Stripe.js that localstripe's mock lacks (see the JS file):
        # appended to the mock it serves, and the route it calls.
        from localstripe.resources import PaymentIntent, PaymentMethod
        from localstripe.errors import UserError
        with open(sys.argv[2]) as extension_file:
            extension = extension_file.read()
        @web.middleware
        async def card_element(request, handler):
            response = await handler(request)
            if request.method == "GET" and request.path == "/js.stripe.com/v3/":
                return web.Response(text=response.text + "\\n" + extension, content_type="application/javascript")
            return response
        async def confirm_card_payment(request):
            data = json.loads(await request.text())
            intent = PaymentIntent._api_retrieve(request.match_info["id"])
            if data.get("client_secret") != intent.client_secret:
                raise UserError(401, "Unauthorized")
            method = PaymentMethod._api_create(type="card", card=data.get("card"))
            if data.get("setup_future_usage") and intent.customer:
                PaymentMethod._api_attach(method.id, customer=intent.customer)
            if intent.latest_charge is not None and intent.latest_charge.status == "failed":
                intent.latest_charge = None  # Stripe lets the client try another card
            intent.payment_method = method.id
            intent._confirm(on_failure_now=intent._report_failure)
            return server.json_response(intent._export())
        server.app.middlewares.append(card_element)
        server.app.router.add_post("/_config/steadfast/confirm-card-payment/{id}", confirm_card_payment)
        log = logging.getLogger("aiohttp.access")
        log.setLevel(logging.DEBUG)
        log.addHandler(logging.StreamHandler())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", int(sys.argv[1])))
        web.run_app(server.app, sock=sock, access_log=log, print=None)
        """

    /// What the harness appends to localstripe's Stripe.js mock (`Tests/Browser/stripe_card_element.js`).
    static var cardElementScript: String {
        TestPaths.packageRoot.appendingPathComponent("Tests/Browser/stripe_card_element.js").path
    }

    private init(port: Int, process: ManagedProcess, directory: URL) {
        self.port = port
        self.process = process
        self.directory = directory
    }

    public static func start(timeout: Duration = .seconds(30)) async throws -> LocalStripeServer {
        var lastError: any Error = HarnessError("localstripe did not start")
        for _ in 0..<3 {
            let port = try FreePort.next()
            let directory = try TestPaths.makeTemporaryDirectory(prefix: "steadfast-localstripe")
            let process: ManagedProcess
            do {
                process = try ManagedProcess(
                    name: "localstripe-\(port)", executable: "/usr/bin/env", arguments: ["python3", "-c", launcher, String(port), Self.cardElementScript],
                    logDirectory: directory
                )
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw HarnessError("cannot run python3 with localstripe (pip install localstripe): \(error)")
            }
            let server = LocalStripeServer(port: port, process: process, directory: directory)
            do {
                try await server.waitUntilReady(timeout: timeout)
                return server
            } catch {
                lastError = error
                server.stop()
            }
        }
        throw lastError
    }

    private func waitUntilReady(timeout: Duration) async throws {
        let answered = await eventually(timeout: timeout) {
            guard process.isRunning else { return true }
            return (try? await request("GET", "/v1/customers", form: nil))?.status == 200
        }
        // Answered by this localstripe, not by some other server on the port, if ours still runs.
        guard process.isRunning else { throw HarnessError("localstripe exited early: \(tailOfLog())") }
        guard answered else { throw HarnessError("localstripe did not answer within \(timeout): \(tailOfLog())") }
    }

    /// Calls localstripe's API directly (as a test, not as the portal): form fields in, JSON out.
    public func request(_ method: String, _ path: String, form: [(String, String)]?) async throws -> (status: UInt, json: [String: Any]) {
        var request = HTTPClientRequest(url: apiBase + path)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(Self.secretKey):".utf8).base64EncodedString())
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            let text = form.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
            request.body = .bytes(ByteBuffer(string: text))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 4 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        return (response.status.code, json)
    }

    /// A card PaymentMethod for `number` (e.g. 4242424242424242), created through the API.
    public func paymentMethod(card number: String) async throws -> String {
        let (status, json) = try await request("POST", "/v1/payment_methods", form: [
            ("type", "card"), ("card[number]", number), ("card[exp_month]", "12"), ("card[exp_year]", "2034"), ("card[cvc]", "123"),
        ])
        guard status == 200, let id = json["id"] as? String else { throw HarnessError("creating a payment method failed: \(status) \(json)") }
        return id
    }

    /// Tells localstripe to deliver its events to `url`, signed with `secret`.
    public func registerWebhook(url: String, secret: String) async throws {
        let (status, json) = try await request("POST", "/_config/webhooks/steadfast", form: [("url", url), ("secret", secret)])
        guard status == 200 else { throw HarnessError("registering the webhook failed: \(status) \(json)") }
    }

    /// Arms a one-time fault: right after localstripe has handled the next `method` request whose
    /// path matches the regular expression `path` (the object is created, the card charged),
    /// it kills `pid` with SIGKILL before answering, as if the caller died at that moment.
    /// Only for processes the test started.
    public func killAfter(method: String, path: String, pid: Int32) async throws {
        let (status, json) = try await request("POST", "/_config/steadfast/kill-after", form: [("method", method), ("path", path), ("pid", String(pid))])
        guard status == 200 else { throw HarnessError("arming the fault failed: \(status) \(json)") }
    }

    /// Kills the server now (SIGKILL by PID; ``ManagedProcess`` reaps it and never signals the PID
    /// again) and removes its output.
    public func stop() {
        process.send(SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The server's log: one line per request (`"POST /v1/payment_intents HTTP/1.1" 200`) and
    /// per webhook delivery (`webhook "payment_intent.succeeded" successfully delivered`).
    public func log() -> String {
        process.stdout + process.stderr
    }

    public func tailOfLog() -> String {
        log().split(separator: "\n").suffix(15).joined(separator: "\n")
    }
}
