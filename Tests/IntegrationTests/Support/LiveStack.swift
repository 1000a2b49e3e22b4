import Acquiring
import AsyncHTTPClient
import Billing
import Delivery
import BillingCore
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Prometheus
import SandboxAcquirer
import Server
import ServiceLifecycle
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// The billing server and the sandbox acquirer talking to each other over loopback HTTP, as in
/// production with CloudPayments: the sandbox calls our webhooks, our adapter calls the sandbox.
struct LiveStack: Sendable {
    let billingURL: String
    let sandboxURL: String
    let database: Database
    /// The billing server's clock, which reconciliation run from the test shares.
    let clock: BillingClock

    /// Runs `body` against both servers on loopback ports of their own. Each server needs the
    /// other's address before it starts, so the ports are chosen first and bound after; another
    /// socket can take one in between, and then the stack is built again on new ports.
    static func run(database: Database, clock: BillingClock = .system, refundPolicy: RefundPolicy = .prorated, _ body: @Sendable (LiveStack) async throws -> Void) async throws {
        try await run(database: database, ports: nil, clock: clock, refundPolicy: refundPolicy, body)
    }

    /// `ports` (billing, sandbox) for the first try only: a test of the retry gives a taken one.
    static func run(database: Database, ports: (billing: Int, sandbox: Int)?, clock: BillingClock = .system, refundPolicy: RefundPolicy = .prorated, _ body: @Sendable (LiveStack) async throws -> Void) async throws {
        var firstPorts = ports
        for attempt in 1...5 {
            let (billingPort, sandboxPort) = try firstPorts ?? (freePort(), freePort())
            firstPorts = nil
            do {
                return try await runOnce(database: database, billingPort: billingPort, sandboxPort: sandboxPort, clock: clock, refundPolicy: refundPolicy, body)
            } catch let error as LiveStackError where error.beforeReady && attempt < 5 {
                testLogger.warning("the live stack did not start (\(error)); trying other ports")
            }
        }
    }

    private static func runOnce(database: Database, billingPort: Int, sandboxPort: Int, clock: BillingClock, refundPolicy: RefundPolicy, _ body: @Sendable (LiveStack) async throws -> Void) async throws {
        let sandboxURL = "http://127.0.0.1:\(sandboxPort)"
        let sandbox = buildSandboxApplication(
            configuration: SandboxConfiguration(
                host: "127.0.0.1", port: sandboxPort, publicID: TestServer.publicID, apiSecret: TestServer.apiSecret,
                notificationBaseURL: "http://127.0.0.1:\(billingPort)/webhooks/cloudpayments",
                retrySchedule: [.milliseconds(100), .milliseconds(200)]
            ),
            logger: testLogger
        )
        var configuration = TestServer.configuration(acquirerURL: sandboxURL)
        configuration.port = billingPort
        configuration.refundPolicy = refundPolicy
        let billing = try await buildApplication(
            configuration: configuration, database: database, httpClient: .shared,
            metricsRegistry: PrometheusCollectorRegistry(), clock: clock, logger: testLogger
        )
        // Services stop in reverse order: the sandbox first, so that it sends nothing to a billing
        // server that is gone (whose port another test may have by then).
        let services = ServiceGroup(configuration: .init(services: [billing, sandbox], logger: testLogger))
        let stack = LiveStack(billingURL: "http://127.0.0.1:\(billingPort)", sandboxURL: sandboxURL, database: database, clock: clock)
        try await withThrowingTaskGroup(of: Milestone.self) { group in
            group.addTask {
                do { try await services.run() } catch { return .stopped(error) }
                return .stopped(nil)
            }
            group.addTask { try await stack.waitUntilReady() }
            // A server that cannot bind its port stops at once; waiting for it to answer would
            // then take as long as the HTTP client keeps retrying to connect.
            if case .stopped(let error) = try await group.next() {
                group.cancelAll()
                throw LiveStackError(message: "the servers stopped before they were ready: \(error.map { "\($0)" } ?? "no error")", beforeReady: true)
            }
            do {
                try await body(stack)
            } catch {
                await stack.stop(services, group: &group)
                throw error
            }
            await stack.stop(services, group: &group)
        }
    }

    /// What the stack's tasks report.
    private enum Milestone {
        case ready
        case stopped((any Error)?)
    }

    /// A graceful stop, as on SIGTERM; after 10 s of waiting, cancellation, so a stuck shutdown
    /// cannot hang the test run.
    private func stop(_ services: ServiceGroup, group: inout ThrowingTaskGroup<Milestone, any Error>) async {
        await services.triggerGracefulShutdown()
        group.addTask {
            try await Task.sleep(for: .seconds(10))
            throw LiveStackError(message: "the servers did not stop within 10 s")
        }
        _ = try? await group.next()
        group.cancelAll()
    }

    private func waitUntilReady() async throws -> Milestone {
        for _ in 0..<200 {
            let billingReady = (try? await get(billingURL + "/health/ready", timeout: .seconds(1)).status) == 200
            let sandboxReady = (try? await get(sandboxURL + "/sandbox/health", timeout: .seconds(1)).status) == 200
            if billingReady && sandboxReady { return .ready }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LiveStackError(message: "the billing server or the sandbox did not become ready")
    }

    /// A plain HTTP exchange.
    struct Exchange {
        var status: UInt
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    func get(_ url: String, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(15)) async throws -> Exchange {
        try await send(url, method: .GET, body: nil, headers: headers, timeout: timeout)
    }

    func post(_ url: String, json: [String: Any], headers: [(String, String)] = []) async throws -> Exchange {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        return try await send(url, method: .POST, body: body, headers: headers + [("Content-Type", "application/json")])
    }

    func put(_ url: String, json: [String: Any], headers: [(String, String)] = []) async throws -> Exchange {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
        return try await send(url, method: .PUT, body: body, headers: headers + [("Content-Type", "application/json")])
    }

    /// Buys a plan (premium_1m unless told) for a new viewer with `card` through the sandbox API, as the widget would
    /// (saving the card); returns the viewer and the invoice once the payment has an outcome.
    /// `checkout` adds fields to the checkout request (`email`, `language`).
    func purchase(card: String = "4000000000003055", plan: String = "premium_1m", holder: String = "TEST VIEWER", checkout fields: [String: Any] = [:]) async throws -> (Viewer, [String: Any]) {
        let viewer = try await Viewer.make()
        let checkout = try await post(billingURL + "/v1/checkout", json: fields.merging(["plan_id": plan]) { $1 }, headers: [("Authorization", "Bearer \(viewer.token)")])
        guard checkout.status == 201, let widget = checkout.json["widget"] as? [String: Any], let invoiceID = checkout.json["invoice_id"] as? String else {
            throw LiveStackError(message: "checkout failed: \(checkout.body)")
        }
        let charge = try await sandboxAPI("/payments/cards/charge", [
            "Amount": widget["amount"]!, "Currency": "RUB", "InvoiceId": widget["invoiceId"]!, "AccountId": widget["accountId"]!,
            "Description": "Movix Premium", "CardCryptogramPacket": sandboxCryptogram(card, holder: holder), "SaveCard": true,
        ])
        guard charge.status == 200 else { throw LiveStackError(message: "charge failed: \(charge.body)") }
        return (viewer, try await settledInvoice(invoiceID, viewer: viewer))
    }

    /// Runs reconciliation now, as `movix-billing reconcile` would, asking about everything open.
    func reconcile(abandonAfter: TimeInterval = 30 * 60, refundRetryAfter: TimeInterval = 60 * 60) async -> Reconciliation.Summary {
        await Reconciliation(services: services, grace: 0, abandonAfter: abandonAfter, refundRetryAfter: refundRetryAfter).run()
    }

    /// Whether the entitlements API lets the viewer watch now.
    func entitled(_ viewer: Viewer) async throws -> Bool? {
        try await get(billingURL + "/internal/v1/entitlements/\(viewer.id.lowercased)", headers: [("Authorization", "Bearer \(TestServer.internalToken)")]).json["active"] as? Bool
    }

    /// The stack on a fresh database with a clock the test moves, and an HTTP client for
    /// webhooks (`EventDispatcher.makeHTTPClient()`), shut down after; the audit runs after.
    static func withEvents(_ body: @Sendable (LiveStack, OffsetClock, HTTPClient) async throws -> Void) async throws {
        try await withTestDatabase { database in
            let clock = OffsetClock()
            let httpClient = EventDispatcher.makeHTTPClient()
            do {
                try await LiveStack.run(database: database, clock: clock.billingClock) { stack in try await body(stack, clock, httpClient) }
            } catch {
                try? await httpClient.shutdown()
                throw error
            }
            try await httpClient.shutdown()
        }
    }

    /// The use cases' collaborators on the stack's database, acquirer and clock.
    var services: BillingServices {
        makeBillingServices(cloudPayments: TestServer.configuration(acquirerURL: sandboxURL).cloudPayments, database: database, httpClient: .shared, clock: clock, logger: testLogger)
    }

    /// A worker on the stack's clock, as `movix-billing worker` runs one.
    func worker(_ id: String) -> JobRunner {
        JobRunner(services: services, workerID: id)
    }

    /// An event dispatcher on the stack's database and clock, as `movix-billing worker` runs one;
    /// `httpClient` from `EventDispatcher.makeHTTPClient()`, shut down by the caller.
    func dispatcher(httpClient: HTTPClient, transport: (any EmailTransport)? = nil, settings: EventDispatcher.Settings = .init()) async throws -> EventDispatcher {
        EventDispatcher(
            services: services, composer: try await EmailComposer(services: services), transport: transport,
            httpClient: httpClient, settings: settings, logger: testLogger
        )
    }

    /// Calls the internal API with the service token.
    func internalAPI(_ method: HTTPMethod, _ path: String, json: [String: Any]? = nil) async throws -> Exchange {
        let body = try json.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        return try await send(billingURL + "/internal/v1" + path, method: method, body: body, headers: [
            ("Authorization", "Bearer \(TestServer.internalToken)"), ("Content-Type", "application/json"),
        ])
    }

    /// Sets the sandbox's fault switches.
    func setFaults(_ faults: [String: Any]) async throws {
        let credentials = Data("\(TestServer.publicID):\(TestServer.apiSecret)".utf8).base64EncodedString()
        let answer = try await put(sandboxURL + "/sandbox/faults", json: faults, headers: [("Authorization", "Basic \(credentials)")])
        guard answer.status == 200 else { throw LiveStackError(message: "sandbox faults refused: \(answer.body)") }
    }

    /// Posts a signed, form-encoded notification as the acquirer would.
    func post(_ url: String, form fields: [(String, String)]) async throws -> Exchange {
        let body = FormEncoding.encode(fields)
        return try await send(url, method: .POST, body: body, headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("Content-HMAC", Notifications.signature(body)),
        ])
    }

    /// The fields of the last Refund notification billing received, parsed back from its log row.
    func lastRefundNotification() async throws -> [(String, String)]? {
        for try await payload in try await database.client.query(
            "SELECT payload FROM acquiring_log WHERE direction = 'notification' AND operation = 'refund' ORDER BY id DESC LIMIT 1", logger: testLogger
        ).decode(String.self) {
            return FormEncoding.decode(payload)
        }
        return nil
    }

    /// The acquirer transaction that paid an invoice.
    func paymentTransactionID(_ invoiceID: String) async throws -> String? {
        for try await id in try await database.client.query(
            "SELECT a.transaction_id FROM invoices i JOIN payment_attempts a ON a.id = i.paid_attempt_id WHERE i.id = \(UUID(uuidString: invoiceID)!)", logger: testLogger
        ).decode(String.self) {
            return id
        }
        return nil
    }

    /// Calls a sandbox API method with the terminal's credentials.
    func sandboxAPI(_ path: String, _ fields: [String: Any]) async throws -> Exchange {
        let credentials = Data("\(TestServer.publicID):\(TestServer.apiSecret)".utf8).base64EncodedString()
        return try await post(sandboxURL + path, json: fields, headers: [("Authorization", "Basic \(credentials)")])
    }

    private func send(_ url: String, method: HTTPMethod, body: String?, headers: [(String, String)], timeout: TimeAmount = .seconds(15)) async throws -> Exchange {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        return Exchange(status: response.status.code, body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// Polls an invoice until its payment has an outcome: paid, or a decline shown on an open invoice.
    func settledInvoice(_ id: String, viewer: Viewer) async throws -> [String: Any] {
        for _ in 0..<100 {
            let invoice = try await get("\(billingURL)/v1/invoices/\(id)", headers: [("Authorization", "Bearer \(viewer.token)")]).json
            let declined = invoice["status"] as? String == "created" && invoice["failure"] is [String: Any]
            if let status = invoice["status"] as? String, declined || (status != "created" && status != "pending") { return invoice }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LiveStackError(message: "invoice \(id) did not settle")
    }
}

/// A sandbox card cryptogram, in the documented `sbx1.` format (docs/sandbox.md).
func sandboxCryptogram(_ number: String, expiry: String = "12/30", holder: String = "TEST VIEWER") -> String {
    let card = #"{"Number":"\#(number)","ExpDate":"\#(expiry)","Cvv":"123","Name":"\#(holder)"}"#
    return "sbx1." + Data(card.utf8).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

/// The live stack could not be brought up.
struct LiveStackError: Error, CustomStringConvertible {
    var message: String
    /// The servers never answered: worth another try on other ports.
    var beforeReady = false
    var description: String { message }
}

/// A loopback port nobody listens on right now.
/// Whether `condition` comes true within `seconds` (10), asked every 50 ms: for what a
/// notification or a refund settles a moment after the call that started it.
func eventually(within seconds: Int = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    for _ in 0..<(seconds * 20) {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return false
}

func freePort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
    }
    guard bound else { throw LiveStackError(message: "no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
