import Acquiring
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Metrics
import NIOCore
import Prometheus
import Server
import Testing

/// The process-wide metrics registry; MetricsSystem can be bootstrapped once per process.
let testMetricsRegistry: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()

@Suite("Ops routes and the payment page's own endpoints")
struct OpsAndPagesTests {
    @Test("health probes answer; metrics count requests by route and payments by outcome")
    func healthAndMetrics() async throws {
        try await withTestDatabase { database in
            let app = try await buildApplication(
                configuration: TestServer.configuration(), database: database, httpClient: .shared,
                metricsRegistry: testMetricsRegistry, logger: testLogger
            )
            try await app.test(.ahc(.http)) { client in
                #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
                #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok)

                let viewer = try await Viewer.make()
                let invoiceID = try json(try await client.checkout(viewer).body)["invoice_id"] as! String
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account), client: client)

                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains(#"hb_requests{http_route="/v1/checkout",http_request_method="POST",http_response_status_code="201"}"#))
                #expect(metrics.contains(#"http_server_request_duration_bucket{http_route="/webhooks/{acquirer}/{kind}""#))
                #expect(metrics.contains(#"movix_payments_total{outcome="paid"}"#))
            }
        }
    }

    @Test("the status endpoint reports the decline and the page stays payable; retry of a canceled invoice needs the page token")
    func statusAndRetry() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database, setup: .router) { client in
                let viewer = try await Viewer.make()
                let checkout = try json(try await client.checkout(viewer, plan: "premium_6m").body)
                let invoiceID = checkout["invoice_id"] as! String
                let token = try #require(pageToken(checkout["payment_url"] as? String))
                _ = try await Notifications.send("fail", Notifications.failFields(invoiceID: invoiceID, accountID: viewer.account), client: client)

                let status = try json(try await client.execute(uri: "/pay/\(invoiceID)/status", method: .get).body)
                #expect(status["status"] as? String == "declined")
                #expect((status["failure"] as? [String: Any])?["code"] as? Int == 5051)

                let page = String(buffer: try await client.execute(uri: "/pay/\(invoiceID)", method: .get).body)
                #expect(page.contains("Недостаточно средств на карте"))
                #expect(page.contains("Movix Premium, 6 месяцев"))
                #expect(page.contains(#"<form id="pay-form" >"#), "the pay form is shown again after a decline")
                let english = String(buffer: try await client.execute(uri: "/pay/\(invoiceID)?lang=en", method: .get).body)
                #expect(english.contains("Payment declined; you can try again</span><span id=\"failure-message\">: Insufficient funds on the card"))
                #expect(english.contains("/status?lang=en"))
                let englishStatus = try json(try await client.execute(uri: "/pay/\(invoiceID)/status?lang=en", method: .get).body)
                #expect((englishStatus["failure"] as? [String: Any])?["message"] as? String == "Insufficient funds on the card")

                // Another plan replaces the open invoice; its page offers a new invoice for its plan.
                #expect(try await client.checkout(viewer, plan: "premium_1m").status == .created)
                let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                let noToken = try await client.execute(uri: "/pay/\(invoiceID)/retry?lang=en", method: .post, headers: form)
                #expect(noToken.status == .forbidden)
                var crossSite = form
                crossSite[.origin] = "https://evil.example"
                let foreign = try await client.execute(uri: "/pay/\(invoiceID)/retry", method: .post, headers: crossSite, body: ByteBuffer(string: "page_token=\(token)"))
                #expect(foreign.status == .forbidden)
                #expect(try await database.count("SELECT count(*)::int FROM invoices") == 2)

                let retry = try await client.execute(uri: "/pay/\(invoiceID)/retry?lang=en", method: .post, headers: form, body: ByteBuffer(string: "page_token=\(token)"))
                #expect(retry.status == .seeOther)
                let location = try #require(retry.headers[.location])
                #expect(location.hasPrefix("http://billing.test/pay/") && !location.contains(invoiceID) && location.contains("?t="))
                let invoices = try json(try await client.execute(uri: "/v1/invoices", method: .get, headers: viewer.headers).body)["invoices"] as? [[String: Any]]
                #expect(invoices?.map { $0["status"] as? String } == ["created", "canceled", "canceled"])
                #expect((invoices?.first?["plan"] as? [String: Any])?["code"] as? String == "premium_6m")

                #expect(try await client.execute(uri: "/pay/\(UUID())", method: .get).status == .notFound)
            }
        }
    }

    @Test("the demo page buys for the demo user and lands on the payment page")
    func demo() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database, setup: .router) { client in
                let page = String(buffer: try await client.execute(uri: "/demo?lang=en", method: .get).body)
                #expect(page.contains(#"data-plan-code="premium_12m""#))
                let checkout = try await client.execute(
                    uri: "/demo/checkout?lang=en", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "plan_code=premium_3m")
                )
                #expect(checkout.status == .seeOther)
                #expect(checkout.headers[.location]?.hasPrefix("http://billing.test/pay/") == true)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE amount = 79900 AND status = 'created'") == 1)

                // Once the demo user is subscribed, the page says until when instead of a raw 409.
                let invoiceID = try #require(checkout.headers[.location].flatMap { URLComponents(string: $0)?.path.split(separator: "/").last }.map(String.init))
                var owner: UUID?
                for try await id in try await database.client.query("SELECT user_id FROM invoices WHERE id = \(UUID(uuidString: invoiceID)!)", logger: testLogger).decode(UUID.self) {
                    owner = id
                }
                let paid = Notifications.payFields(invoiceID: invoiceID, accountID: AcquirerAccount.id(for: try #require(owner)), amount: "799.00")
                #expect(try await Notifications.send("pay", paid, client: client).1 == #"{"code":0}"#)
                let again = try await client.execute(
                    uri: "/demo/checkout?lang=en", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "plan_code=premium_1m")
                )
                #expect(again.status == .seeOther)
                #expect(again.headers[.location] == "http://billing.test/demo?lang=en")
                let subscribed = String(buffer: try await client.execute(uri: "/demo?lang=en", method: .get).body)
                #expect(subscribed.contains("Your Movix Premium subscription runs until"))
                #expect(!subscribed.contains("data-plan-code"))
            }
        }
    }
}
