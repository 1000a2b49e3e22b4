import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Storage
import Testing

@Suite("Checkout and the viewer's account")
struct CheckoutTests {
    @Test("the same Idempotency-Key and body replay the first response; another body is 422")
    func idempotentReplay() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let first = try await client.checkout(viewer, idempotencyKey: "order-1")
                let replay = try await client.checkout(viewer, idempotencyKey: "order-1")
                #expect(first.status == .created)
                #expect(replay.status == .created)
                #expect(String(buffer: first.body) == String(buffer: replay.body))

                let other = try await client.checkout(viewer, plan: "premium_3m", idempotencyKey: "order-1")
                #expect(other.status == .unprocessableContent)
                #expect(other.headers[.contentType] == "application/problem+json")
                #expect(try json(other.body)["type"] as? String == "/problems/idempotency-key-reused")
                #expect(try await database.count("SELECT count(*)::int FROM invoices") == 1)
            }
        }
    }

    @Test("checkout returns the widget parameters and the payment page")
    func checkoutBody() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let body = try json(try await client.checkout(viewer, plan: "premium_12m").body)
                let invoiceID = try #require(body["invoice_id"] as? String)
                #expect(body["status"] as? String == "created")
                #expect((body["payment_url"] as? String)?.hasPrefix("http://billing.test/pay/\(invoiceID)?t=") == true)
                #expect((body["amount"] as? [String: Any])?["amount"] as? Int == 269000)
                let widget = try #require(body["widget"] as? [String: Any])
                #expect(widget["publicId"] as? String == TestServer.publicID)
                #expect(widget["invoiceId"] as? String == invoiceID)
                // Not the user id: the widget options are readable by whoever holds the page link.
                #expect(widget["accountId"] as? String == viewer.account)
                #expect(widget["saveCard"] as? Bool == true)
                #expect(widget["amount"] as? Double == 2690)
                #expect(widget["currency"] as? String == "RUB")
                #expect(widget["email"] as? String == "viewer@movix.test")
            }
        }
    }

    @Test("a viewer with an open invoice gets it back; another plan replaces it; never two open invoices")
    func oneOpenInvoice() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let first = try json(try await client.checkout(viewer).body)["invoice_id"] as? String
                let again = try await client.checkout(viewer)
                #expect(again.status == .ok)
                #expect(try json(again.body)["invoice_id"] as? String == first)

                let switched = try await client.checkout(viewer, plan: "premium_6m")
                #expect(switched.status == .created)
                #expect(try json(switched.body)["invoice_id"] as? String != first)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status IN ('created', 'pending')") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'canceled'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM subscriptions") == 1)
            }
        }
    }

    @Test("an invoice too old to be paid is replaced, not handed out again")
    func staleInvoice() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let first = try json(try await client.checkout(viewer).body)["invoice_id"] as? String
                try await database.client.query("UPDATE invoices SET created_at = now() - interval '25 hours'", logger: testLogger)
                let again = try await client.checkout(viewer)
                #expect(again.status == .created)
                #expect(try json(again.body)["invoice_id"] as? String != first)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'canceled'") == 1)
            }
        }
    }

    @Test("a checkout racing a Pay for the same viewer never deadlocks or fails")
    func checkoutRacingPay() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                for round in 0..<15 {
                    let viewer = try await Viewer.make()
                    let invoiceID = try json(try await client.checkout(viewer).body)["invoice_id"] as! String
                    let pay = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: String(800_000 + round))
                    async let paid = Notifications.send("pay", pay, client: client)
                    async let switched = client.checkout(viewer, plan: "premium_3m")
                    let (payStatus, checkoutStatus) = try await (paid.0, switched.status)
                    #expect(payStatus == .ok)
                    #expect([.ok, .created, .conflict].contains(checkoutStatus), "checkout answered \(checkoutStatus)")
                }
                // Whatever won each race, the money is accounted for: every Pay paid its invoice, or
                // (its invoice replaced first) is refunded in full.
                #expect(try await database.count("""
                    SELECT count(*)::int FROM payment_attempts a WHERE a.status = 'succeeded' AND (
                        EXISTS (SELECT 1 FROM invoices i WHERE i.paid_attempt_id = a.id AND i.status = 'paid')
                        OR EXISTS (SELECT 1 FROM refunds r WHERE r.attempt_id = a.id AND r.amount = a.amount AND r.reason = 'invoice_closed'))
                    """) == 15)
            }
        }
    }

    @Test("concurrent checkouts of one viewer make one invoice")
    func concurrentCheckouts() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                    for _ in 0..<10 { group.addTask { try json(try await client.checkout(viewer).body)["invoice_id"] as? String } }
                    return try await group.reduce(into: Set<String?>()) { $0.insert($1) }
                }
                #expect(ids.count == 1)
                #expect(try await database.count("SELECT count(*)::int FROM invoices") == 1)
            }
        }
    }

    @Test("a subscribed viewer gets 409; entitlement is active until the period end")
    func alreadySubscribed() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let internalHeaders: HTTPFields = [.authorization: "Bearer \(TestServer.internalToken)"]
                let before = try json(try await client.execute(uri: "/internal/v1/entitlements/\(viewer.id)", method: .get, headers: internalHeaders).body)
                #expect(before["active"] as? Bool == false)
                #expect(before["plan_code"] is NSNull)

                let invoiceID = try json(try await client.checkout(viewer).body)["invoice_id"] as! String
                // Paid now, so that the entitlement is current.
                var fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account)
                fields.removeAll { $0.0 == "DateTime" }
                _ = try await Notifications.send("pay", fields, client: client)

                let conflict = try await client.checkout(viewer, plan: "premium_3m")
                #expect(conflict.status == .conflict)
                #expect(try json(conflict.body)["type"] as? String == "/problems/already-subscribed")

                let after = try json(try await client.execute(uri: "/internal/v1/entitlements/\(viewer.id)", method: .get, headers: internalHeaders).body)
                #expect(after["active"] as? Bool == true)
                #expect(after["plan_code"] as? String == "premium_1m")
                #expect(after["until"] is String)

                let denied = try await client.execute(uri: "/internal/v1/entitlements/\(viewer.id)", method: .get, headers: viewer.headers)
                #expect(denied.status == .unauthorized)
            }
        }
    }

    @Test("bad input gets a clear 4xx problem and writes nothing", arguments: [
        ("{\"plan_id\":", 400, "not valid JSON"),
        ("", 400, "empty"),
        ("{\"plan_id\": 3}", 422, "plan_id must be a string"),
        ("{}", 422, "plan_id is required"),
        ("{\"plan_id\":\"premium_2m\"}", 422, "not a plan on sale"),
        ("{\"plan_id\":\"premium_1m\",\"email\":\"nobody\"}", 422, "not an email address"),
        ("[1,2]", 422, "must be an object"),
    ])
    func badInput(body: String, status: Int, detail: String) async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let response = try await client.execute(uri: "/v1/checkout", method: .post, headers: viewer.headers, body: ByteBuffer(string: body))
                #expect(response.status.code == status)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try json(response.body)
                #expect((problem["detail"] as? String)?.contains(detail) == true, "\(problem)")
                #expect(problem["status"] as? Int == status)
                #expect(try await database.count("SELECT (SELECT count(*) FROM invoices) + (SELECT count(*) FROM customers)") == 0)
            }
        }
    }

    @Test("bodies over 64 KiB are refused with 413; requests without a token with 401")
    func limitsAndAuth() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let huge = "{\"plan_id\":\"premium_1m\",\"email\":\"" + String(repeating: "a", count: 70_000) + "\"}"
                let tooLarge = try await client.execute(uri: "/v1/checkout", method: .post, headers: viewer.headers, body: ByteBuffer(string: huge))
                #expect(tooLarge.status == .contentTooLarge)
                #expect(tooLarge.headers[.contentType] == "application/problem+json")

                let anonymous = try await client.execute(uri: "/v1/plans", method: .get)
                #expect(anonymous.status == .unauthorized)
                let expired = try await client.execute(uri: "/v1/plans", method: .get, headers: [.authorization: "Bearer not.a.jwt"])
                #expect(expired.status == .unauthorized)
                #expect(try await database.count("SELECT count(*)::int FROM invoices") == 0)
            }
        }
    }

    @Test("a viewer sees only their own invoices")
    func ownInvoicesOnly() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let owner = try await Viewer.make()
                let stranger = try await Viewer.make()
                let invoiceID = try json(try await client.checkout(owner).body)["invoice_id"] as! String

                let mine = try await client.execute(uri: "/v1/invoices/\(invoiceID)", method: .get, headers: owner.headers)
                #expect(mine.status == .ok)
                let theirs = try await client.execute(uri: "/v1/invoices/\(invoiceID)", method: .get, headers: stranger.headers)
                #expect(theirs.status == .notFound)
                let list = try json(try await client.execute(uri: "/v1/invoices", method: .get, headers: stranger.headers).body)
                #expect((list["invoices"] as? [Any])?.isEmpty == true)
                let garbage = try await client.execute(uri: "/v1/invoices/not-a-uuid", method: .get, headers: owner.headers)
                #expect(garbage.status == .notFound)
            }
        }
    }

    @Test("plans list the launch catalog in kopecks")
    func plans() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let viewer = try await Viewer.make()
                let plans = try json(try await client.execute(uri: "/v1/plans", method: .get, headers: viewer.headers).body)["plans"] as? [[String: Any]]
                let prices = plans?.map { (($0["price"] as? [String: Any])?["amount"] as? Int) ?? 0 }
                #expect(plans?.map { $0["period_months"] as? Int ?? 0 } == [1, 3, 6, 12])
                #expect(prices == [29900, 79900, 149000, 269000])
            }
        }
    }
}
