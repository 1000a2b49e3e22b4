import Acquiring
import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import Server
import Storage
import Testing

/// The billing server as the tests run it: real router, real database, real HTTP.
enum TestServer {
    static let jwtSecret = "integration-test-jwt-secret-0123456789"
    static let internalToken = "integration-test-internal-token"
    static let publicID = "pk_test_movix"
    static let apiSecret = "integration-test-api-secret"

    static func configuration(acquirerURL: String = "http://127.0.0.1:9") -> ServerConfiguration {
        ServerConfiguration(
            host: "127.0.0.1", port: 0, publicURL: "http://billing.test",
            tokenVerification: .hmacSHA256(secret: jwtSecret), internalToken: internalToken,
            // Short, so a test of a refund whose answer times out takes seconds, not half a minute.
            cloudPayments: CloudPaymentsConfiguration(apiURL: acquirerURL, publicID: publicID, apiSecret: apiSecret, widgetScriptURL: acquirerURL + "/widget.js", requestTimeout: .seconds(2)),
            watchURL: "http://movies.test", demoUserID: UUID()
        )
    }

    /// Serves the app on a random port for the duration of `body`. `.router` runs requests without
    /// a socket, and without an HTTP client that would follow redirects to the public URL.
    static func run(
        database: Database, acquirerURL: String = "http://127.0.0.1:9", setup: TestingSetup = .ahc(.http), limits: HTTPLimits = HTTPLimits(),
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        var configuration = configuration(acquirerURL: acquirerURL)
        configuration.limits = limits
        let app = try await buildApplication(
            configuration: configuration, database: database,
            httpClient: .shared, metricsRegistry: PrometheusCollectorRegistry(), logger: testLogger
        )
        try await app.test(setup) { client in try await body(client) }
    }

    static func token(for user: UUID) async throws -> String {
        try await DevelopmentTokens.mint(user: user, email: "viewer@movix.test", secret: jwtSecret, lifetime: 3600)
    }
}

/// A viewer with a valid bearer token.
struct Viewer {
    let id: UUID
    let token: String

    static func make() async throws -> Viewer {
        let id = UUID()
        return Viewer(id: id, token: try await TestServer.token(for: id))
    }

    private init(id: UUID, token: String) {
        self.id = id
        self.token = token
    }

    var headers: HTTPFields { [.authorization: "Bearer \(token)", .contentType: "application/json"] }

    /// The account id the acquirer knows this viewer by.
    var account: String { AcquirerAccount.id(for: id) }
}

/// CloudPayments notifications as the acquirer sends them: form-urlencoded and signed.
enum Notifications {
    static func payFields(invoiceID: String, accountID: String, amount: String = "299.00", transactionID: String = "700100", dateTime: String = dateTime(Date())) -> [(String, String)] {
        [
            ("TransactionId", transactionID), ("Amount", amount), ("Currency", "RUB"), ("PaymentAmount", amount), ("PaymentCurrency", "RUB"),
            ("DateTime", dateTime), ("CardFirstSix", "424242"), ("CardLastFour", "4242"), ("CardType", "Visa"),
            ("CardExpDate", "12/30"), ("TestMode", "1"), ("InvoiceId", invoiceID), ("AccountId", accountID),
            ("Status", "Completed"), ("OperationType", "Payment"), ("Token", "tok_integration_\(transactionID)"),
        ]
    }

    /// A Fail as real ones come: `Reason` and `ReasonCode`, no cardholder message.
    static func failFields(invoiceID: String, accountID: String, code: Int = 5051, transactionID: String = "700200") -> [(String, String)] {
        payFields(invoiceID: invoiceID, accountID: accountID, transactionID: transactionID).filter { $0.0 != "Status" && $0.0 != "Token" }
            + [("Reason", "InsufficientFunds"), ("ReasonCode", String(code))]
    }

    /// A Refund notification for (part of) a payment.
    static func refundFields(paymentTransactionID: String, refundTransactionID: String, amount: String, invoiceID: String, accountID: String) -> [(String, String)] {
        [
            ("TransactionId", refundTransactionID), ("PaymentTransactionId", paymentTransactionID), ("Amount", amount),
            ("DateTime", dateTime(Date())), ("OperationType", "Refund"), ("InvoiceId", invoiceID), ("AccountId", accountID),
        ]
    }

    /// `yyyy-MM-dd HH:mm:ss` in UTC, as CloudPayments writes times.
    static func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: date)
    }

    static func signature(_ body: String, secret: String = TestServer.apiSecret) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))).base64EncodedString()
    }

    /// How a test signs a notification.
    enum Signing {
        case valid, missing
        case given(String)
    }

    /// Sends a notification and returns the HTTP status and body.
    static func send(_ kind: String, _ fields: [(String, String)], client: any TestClientProtocol, signing: Signing = .valid) async throws -> (HTTPResponse.Status, String) {
        let body = FormEncoding.encode(fields)
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        switch signing {
        case .valid: headers[HTTPField.Name("Content-HMAC")!] = Self.signature(body)
        case .given(let signature): headers[HTTPField.Name("Content-HMAC")!] = signature
        case .missing: break
        }
        let response = try await client.execute(uri: "/webhooks/cloudpayments/\(kind)", method: .post, headers: headers, body: ByteBuffer(string: body))
        return (response.status, String(buffer: response.body))
    }
}

/// A new viewer's checkout: the viewer and the id of their open invoice.
func openInvoice(_ client: any TestClientProtocol, plan: String = "premium_1m") async throws -> (Viewer, String) {
    let viewer = try await Viewer.make()
    let response = try await client.checkout(viewer, plan: plan)
    #expect(response.status == .created)
    return (viewer, try json(response.body)["invoice_id"] as! String)
}

/// The page token (`t`) of a payment link.
func pageToken(_ paymentURL: String?) -> String? {
    paymentURL.flatMap(URLComponents.init(string:))?.queryItems?.first { $0.name == "t" }?.value
}

/// JSON response bodies as dictionaries, for assertions on exactly what clients see.
func json(_ buffer: ByteBuffer) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any] ?? [:]
}

extension TestClientProtocol {
    /// POST /v1/checkout for a viewer.
    func checkout(_ viewer: Viewer, plan: String = "premium_1m", idempotencyKey: String? = nil) async throws -> TestResponse {
        var headers = viewer.headers
        if let idempotencyKey { headers[HTTPField.Name("Idempotency-Key")!] = idempotencyKey }
        return try await execute(uri: "/v1/checkout", method: .post, headers: headers, body: ByteBuffer(string: "{\"plan_id\":\"\(plan)\"}"))
    }
}
