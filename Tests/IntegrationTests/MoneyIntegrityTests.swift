import Acquiring
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Storage
import Testing

/// Money taken that does not fit its invoice goes back, automatically; nothing is absorbed silently.
@Suite("Every kopeck accounted for")
struct MoneyIntegrityTests {
    func invoice(_ client: any TestClientProtocol, _ viewer: Viewer, _ id: String) async throws -> [String: Any] {
        try json(try await client.execute(uri: "/v1/invoices/\(id)", method: .get, headers: viewer.headers).body)
    }

    @Test("two attempts both Checked and both paid: one pays the invoice, the other is refunded in full")
    func secondChargeIsRefunded() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let first = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "910001")
                let second = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "910002")
                // Two widget sessions: both Checks come while the invoice is still open.
                #expect(try await Notifications.send("check", first, client: client).1 == #"{"code":0}"#)
                #expect(try await Notifications.send("check", second, client: client).1 == #"{"code":0}"#)
                #expect(try await Notifications.send("pay", first, client: client).1 == #"{"code":0}"#)
                // The money is taken: refusing would only make the acquirer send it again.
                #expect(try await Notifications.send("pay", second, client: client).1 == #"{"code":0}"#)
                #expect(try await Notifications.send("pay", second, client: client).1 == #"{"code":0}"#)

                let body = try await invoice(client, viewer, invoiceID)
                #expect(body["status"] as? String == "paid")
                #expect((body["attempts"] as? [[String: Any]])?.count == 2)
                let refunds = try #require(body["refunds"] as? [[String: Any]])
                #expect(refunds.count == 1)
                #expect(refunds.first?["reason"] as? String == "duplicate_charge")
                #expect((refunds.first?["amount"] as? [String: Any])?["amount"] as? Int == 29900)
                #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'payment.unmatched'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity = 'subscription' AND to_state = 'active'") == 1)
            }
        }
    }

    @Test("a Pay with a wrong amount, currency or account, or for an unknown invoice, pays nothing and is refunded in full")
    func mismatchedPayments() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let cheap = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, amount: "1.00", transactionID: "920001")
                let stranger = Notifications.payFields(invoiceID: invoiceID, accountID: AcquirerAccount.id(for: UUID()), transactionID: "920002")
                let unknown = Notifications.payFields(invoiceID: UUID().uuidString, accountID: viewer.account, transactionID: "920003")
                // The widget's currency comes from the browser; dollars for a rouble invoice go back as dollars.
                let dollars = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "920005")
                    .map { $0.0 == "Currency" ? ("Currency", "USD") : $0 }
                // A Check started the cheap attempt: the invoice is pending until that money turns out wrong.
                #expect(try await Notifications.send("check", cheap.map { $0.0 == "Amount" ? ("Amount", "299.00") : $0 }, client: client).1 == #"{"code":0}"#)
                for fields in [cheap, stranger, unknown, dollars] {
                    #expect(try await Notifications.send("pay", fields, client: client).1 == #"{"code":0}"#)
                }
                let body = try await invoice(client, viewer, invoiceID)
                #expect(body["status"] as? String == "created", "payable again, not stuck pending")
                #expect(try await database.count("SELECT count(*)::int FROM subscriptions WHERE status = 'active'") == 0)
                #expect(try await database.count("""
                    SELECT count(*)::int FROM refunds r JOIN payment_attempts a ON a.id = r.attempt_id
                    WHERE r.amount = a.amount AND (a.transaction_id, r.reason) IN
                        (('920001', 'amount_mismatch'), ('920002', 'account_mismatch'), ('920003', 'unknown_invoice'), ('920005', 'amount_mismatch'))
                    """) == 4)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE currency = 'USD' AND amount = 29900") == 1)

                // The right payment still pays it.
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "920004"), client: client)
                #expect(try await invoice(client, viewer, invoiceID)["status"] as? String == "paid")
            }
        }
    }

    @Test("a hold (Pay with Status Authorized) is not money: the invoice stays unpaid; its Cancel ends the attempt")
    func holdIsNotPayment() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let hold = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "970001")
                    .map { $0.0 == "Status" ? ("Status", "Authorized") : $0 }
                #expect(try await Notifications.send("pay", hold, client: client).1 == #"{"code":0}"#)
                #expect(try await invoice(client, viewer, invoiceID)["status"] as? String == "created")
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'started'") == 1)
                let internalHeaders: HTTPFields = [.authorization: "Bearer \(TestServer.internalToken)"]
                let entitlement = try json(try await client.execute(uri: "/internal/v1/entitlements/\(viewer.id.lowercased)", method: .get, headers: internalHeaders).body)
                #expect(entitlement["active"] as? Bool == false)

                let cancel = [("TransactionId", "970001"), ("Amount", "299.00"), ("DateTime", Notifications.dateTime(Date())), ("InvoiceId", invoiceID), ("AccountId", viewer.account)]
                #expect(try await Notifications.send("cancel", cancel, client: client).1 == #"{"code":0}"#)
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'abandoned'") == 1)
            }
        }
    }

    @Test("money the acquirer refunded before its Pay reached us is not refunded again; the Pay is acknowledged")
    func refundedBeforePay() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let first = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "980001")
                let second = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "980002")
                _ = try await Notifications.send("check", first, client: client)
                _ = try await Notifications.send("check", second, client: client)
                _ = try await Notifications.send("pay", first, client: client)
                let refund = Notifications.refundFields(paymentTransactionID: "980002", refundTransactionID: "980003", amount: "299.00", invoiceID: invoiceID, accountID: viewer.account)
                #expect(try await Notifications.send("refund", refund, client: client).1 == #"{"code":0}"#)
                let (status, reply) = try await Notifications.send("pay", second, client: client)
                #expect(status == .ok)
                #expect(reply == #"{"code":0}"#)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'succeeded'") == 2)
                // The other order: money refunded at the acquirer reaches us first and cannot pay.
                let (other, otherInvoice) = try await openInvoice(client)
                let early = Notifications.payFields(invoiceID: otherInvoice, accountID: other.account, transactionID: "980011")
                let late = Notifications.payFields(invoiceID: otherInvoice, accountID: other.account, transactionID: "980012")
                _ = try await Notifications.send("check", early, client: client)
                _ = try await Notifications.send("check", late, client: client)
                _ = try await Notifications.send("refund", Notifications.refundFields(paymentTransactionID: "980011", refundTransactionID: "980013", amount: "299.00", invoiceID: otherInvoice, accountID: other.account), client: client)
                _ = try await Notifications.send("pay", early, client: client)
                #expect(try await invoice(client, other, otherInvoice)["status"] as? String == "pending", "refunded money paid nothing")
                _ = try await Notifications.send("pay", late, client: client)
                #expect(try await invoice(client, other, otherInvoice)["status"] as? String == "paid")
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE attempt_id IN (SELECT id FROM payment_attempts WHERE transaction_id LIKE '98001%')") == 1)

                // A refund id the acquirer already used for another payment is logged, not a 500.
                let reused = Notifications.refundFields(paymentTransactionID: "980001", refundTransactionID: "980003", amount: "1.00", invoiceID: invoiceID, accountID: viewer.account)
                #expect(try await Notifications.send("refund", reused, client: client).0 == .ok)
            }
        }
    }

    @Test("a decline while another attempt is still at 3-D Secure leaves the invoice pending for it")
    func declineBesideAnotherAttempt() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let waiting = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "990001")
                let declined = Notifications.failFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "990002")
                _ = try await Notifications.send("check", waiting, client: client)
                _ = try await Notifications.send("check", declined, client: client)
                _ = try await Notifications.send("fail", declined, client: client)
                #expect(try await invoice(client, viewer, invoiceID)["status"] as? String == "pending")
                _ = try await Notifications.send("fail", Notifications.failFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "990001"), client: client)
                #expect(try await invoice(client, viewer, invoiceID)["status"] as? String == "created")
            }
        }
    }

    @Test("signed notifications with NUL characters, JSON booleans or ids too long for an index are logged as malformed and answered per the protocol (Check declined, Pay acknowledged), never a 500; the server stays up")
    func oddValues() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                for field in ["TransactionId", "InvoiceId", "AccountId", "CardLastFour", "Token"] {
                    let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "995001")
                        .map { $0.0 == field ? ($0.0, $0.1 + "\u{0}x") : $0 }
                    // Signed but unusable: the same body would come back up to 100 times, so it is
                    // acknowledged (Pay) or declined (Check) per the protocol, and logged.
                    let (status, body) = try await Notifications.send("pay", fields, client: client)
                    #expect(status == .ok && body == #"{"code":0}"#, "NUL in \(field)")
                    let (checkStatus, checkBody) = try await Notifications.send("check", fields, client: client)
                    #expect(checkStatus == .ok && checkBody == #"{"code":13}"#, "NUL in \(field)")
                }
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE message LIKE 'malformed%'") == 10)
                // Ids and tokens too long for any index: refused by the parser, not by PostgreSQL as a 500.
                for field in ["TransactionId", "InvoiceId", "AccountId", "Token"] {
                    let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "995003")
                        .map { $0.0 == field ? ($0.0, String(repeating: "7", count: 3000)) : $0 }
                    let (status, body) = try await Notifications.send("pay", fields, client: client)
                    #expect(status == .ok && body == #"{"code":0}"#, "long \(field)")
                }
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE message LIKE 'malformed%'") == 14)

                let body = #"{"TransactionId":"995002","Amount":true,"Currency":"RUB","InvoiceId":"\#(invoiceID)","AccountId":"\#(viewer.account)"}"#
                let response = try await client.execute(
                    uri: "/webhooks/cloudpayments/pay", method: .post,
                    headers: [.contentType: "application/json", .init("Content-HMAC")!: Notifications.signature(body)], body: ByteBuffer(string: body)
                )
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"code":0}"#)

                let checkout = try await client.execute(uri: "/v1/checkout", method: .post, headers: viewer.headers, body: ByteBuffer(string: #"{"plan_id":"premium_1m\u0000"}"#))
                #expect(checkout.status == .unprocessableContent)
                #expect(String(buffer: checkout.body).contains("NUL character"))
                // An escaped backslash before "u0000" is text, not a NUL: an unknown plan, nothing more.
                let literal = try await client.execute(uri: "/v1/checkout", method: .post, headers: viewer.headers, body: ByteBuffer(string: #"{"plan_id":"premium_1m\\u0000"}"#))
                #expect(literal.status == .unprocessableContent)
                #expect(String(buffer: literal.body).contains("is not a plan on sale"))
                #expect(try await client.execute(uri: "/health/live", method: .get).status == .ok)
                #expect(try await invoice(client, viewer, invoiceID)["status"] as? String == "created")
            }
        }
    }

    @Test("a payment time that is implausible or not a date does not decide when access starts")
    func implausiblePaymentTimes() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                for (round, dateTime) in ["2001-01-01 00:00:00", "2026-99-99 10:00:00", "2999-01-01 00:00:00", "300000-01-01 00:00:00"].enumerated() {
                    let (viewer, invoiceID) = try await openInvoice(client)
                    let before = Date()
                    let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: String(930_000 + round), dateTime: dateTime)
                    #expect(try await Notifications.send("pay", fields, client: client).0 == .ok, "\(dateTime)")
                    let period = try #require(try await invoice(client, viewer, invoiceID)["period"] as? [String: String], "\(dateTime)")
                    let start = try #require(period["start"].flatMap { ISO8601DateFormatter().date(from: $0) })
                    #expect(abs(start.timeIntervalSince(before)) < 60, "\(dateTime) gave access from \(start)")
                }
                // CloudPayments' API style, `T` and a trailing `Z`, is UTC too.
                let (viewer, invoiceID) = try await openInvoice(client)
                let now = Notifications.dateTime(Date().addingTimeInterval(-5))
                let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "930100", dateTime: now.replacingOccurrences(of: " ", with: "T") + "Z")
                _ = try await Notifications.send("pay", fields, client: client)
                let period = try #require(try await invoice(client, viewer, invoiceID)["period"] as? [String: String])
                #expect(period["start"] == now.replacingOccurrences(of: " ", with: "T") + "Z")
            }
        }
    }

    @Test("a lapsed subscription: entitlement false, checkout allowed, the new period starts at the payment")
    func lapsedSubscription() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, first) = try await openInvoice(client)
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: first, accountID: viewer.account, transactionID: "940001"), client: client)
                // Two months pass: the paid month is over.
                try await database.client.query("""
                    UPDATE subscriptions SET current_period_start = current_period_start - interval '2 months', current_period_end = current_period_end - interval '2 months';
                    """, logger: testLogger)
                try await database.client.query("""
                    UPDATE invoices SET period_start = period_start - interval '2 months', period_end = period_end - interval '2 months', created_at = created_at - interval '2 months'
                    """, logger: testLogger)

                let service: HTTPFields = [.authorization: "Bearer \(TestServer.internalToken)"]
                let entitlement = try json(try await client.execute(uri: "/internal/v1/entitlements/\(viewer.id.lowercased)", method: .get, headers: service).body)
                #expect(entitlement["active"] as? Bool == false)
                let subscription = try json(try await client.execute(uri: "/v1/subscription", method: .get, headers: viewer.headers).body)
                #expect((subscription["subscription"] as? [String: Any])?["status"] as? String == "expired")

                let again = try await client.checkout(viewer, plan: "premium_3m")
                #expect(again.status == .created, "a lapsed subscription no longer blocks checkout")
                let second = try json(again.body)["invoice_id"] as! String
                #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'subscription.expired'") == 1)

                let paidAt = Notifications.dateTime(Date())
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: second, accountID: viewer.account, amount: "799.00", transactionID: "940002", dateTime: paidAt), client: client)
                let renewed = try json(try await client.execute(uri: "/v1/subscription", method: .get, headers: viewer.headers).body)["subscription"] as? [String: Any]
                #expect(renewed?["status"] as? String == "active")
                #expect((renewed?["current_period"] as? [String: String])?["start"] == paidAt.replacingOccurrences(of: " ", with: "T") + "Z", "no period spanning the gap")
                #expect(renewed?["auto_renew"] as? Bool == true, "the payment saved a card (its Token), so the subscription renews with it")
            }
        }
    }

    @Test("the payment page shows nothing personal and sends the headers that keep it to itself; a GET asks nobody")
    func paymentPagePrivacy() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database, setup: .router) { client in
                // A viewer with a saved card comes back for another plan after the first lapsed.
                let (viewer, first) = try await openInvoice(client)
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: first, accountID: viewer.account, transactionID: "950001"), client: client)
                try await database.client.query("UPDATE subscriptions SET status = 'expired'", logger: testLogger)
                let checkout = try json(try await client.checkout(viewer, plan: "premium_3m").body)
                let invoiceID = checkout["invoice_id"] as! String
                let token = try #require(pageToken(checkout["payment_url"] as? String))
                let logged = try await database.count("SELECT count(*)::int FROM acquiring_log")

                for uri in ["/pay/\(invoiceID)", "/pay/\(invoiceID)?t=\(token)"] {
                    let response = try await client.execute(uri: uri, method: .get)
                    let html = String(buffer: response.body)
                    #expect(!html.contains(viewer.id.lowercased), "no user id")
                    #expect(!html.contains("viewer@movix.test"), "no email")
                    #expect(!html.contains("424242"), "no digits beyond the last four")
                    #expect(response.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true)
                    #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                }
                let withToken = String(buffer: try await client.execute(uri: "/pay/\(invoiceID)?t=\(token)", method: .get).body)
                #expect(withToken.contains("Visa •••• 4242"))
                let withoutToken = String(buffer: try await client.execute(uri: "/pay/\(invoiceID)", method: .get).body)
                #expect(!withoutToken.contains("•••• 4242"), "saved cards only for the holder of a current link")
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log") == logged, "a GET makes no acquirer call")

                let card = try #require(try await database.read { try await PaymentMethodRepository().cards(userID: viewer.id, on: $0) }.first)
                let body = ByteBuffer(string: #"{"payment_method_id":"\#(card.id.lowercased)"}"#)
                for headers: HTTPFields in [
                    [.contentType: "application/json"],
                    [.contentType: "application/json", HTTPField.Name("X-Page-Token")!: "1.forged"],
                    [.contentType: "application/json", HTTPField.Name("X-Page-Token")!: PageTokenForTests.expired(invoiceID: invoiceID)],
                    [.contentType: "application/json", HTTPField.Name("X-Page-Token")!: token, .origin: "https://evil.example"],
                ] {
                    let response = try await client.execute(uri: "/pay/\(invoiceID)/saved-card", method: .post, headers: headers, body: body)
                    #expect(response.status == .forbidden)
                }
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'pending'") == 0, "nothing was charged")
            }
        }
    }

    @Test("the audit finds a breach planted by hand, from the API too")
    func auditFindsBreaches() async throws {
        try await withTestDatabase(audit: false) { database in
            try await TestServer.run(database: database, setup: .router) { client in
                let service: HTTPFields = [.authorization: "Bearer \(TestServer.internalToken)"]
                let (viewer, invoiceID) = try await openInvoice(client)
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "960001"), client: client)
                let clean = try json(try await client.execute(uri: "/internal/v1/audit", method: .get, headers: service).body)
                #expect(clean["balanced"] as? Bool == true)

                // Money taken that nobody refunds, and a paid invoice whose attempt took less.
                try await database.client.query("""
                    INSERT INTO payment_attempts (id, acquirer, transaction_id, amount, currency, status, created_at, updated_at)
                    VALUES (gen_random_uuid(), 'cloudpayments', '960002', 5000, 'RUB', 'succeeded', now(), now())
                    """, logger: testLogger)
                try await database.client.query("UPDATE payment_attempts SET amount = 100 WHERE transaction_id = '960001'", logger: testLogger)

                let audit = try json(try await client.execute(uri: "/internal/v1/audit", method: .get, headers: service).body)
                #expect(audit["balanced"] as? Bool == false)
                let rules = Set((audit["breaches"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String })
                #expect(rules == ["paid_invoice_has_one_matching_attempt", "unmatched_money_is_refunded"])
            }
        }
    }
}

/// Page tokens made the way the server makes them, for tests that need an expired one.
enum PageTokenForTests {
    static func expired(invoiceID: String) -> String {
        "\(Int(Date().timeIntervalSince1970) - 60).AAAA"
    }
}
