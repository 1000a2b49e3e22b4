import Billing
import Foundation
import Server
import Storage
import Testing

/// Refunds through the CloudPayments adapter and the sandbox over HTTP, as in production.
@Suite("The refund engine against the sandbox acquirer")
struct RefundEngineTests {
    /// A paid premium_1m invoice of a new viewer.
    func purchase(_ stack: LiveStack) async throws -> (Viewer, [String: Any]) {
        let (viewer, invoice) = try await stack.purchase()
        #expect(invoice["status"] as? String == "paid")
        return (viewer, invoice)
    }

    func refund(_ stack: LiveStack, _ invoiceID: String, amount: Int? = nil, key: String? = nil) async throws -> LiveStack.Exchange {
        var body: [String: Any] = ["reason": "goodwill"]
        body["amount"] = amount
        let headers = [("Authorization", "Bearer \(TestServer.internalToken)")] + (key.map { [("Idempotency-Key", $0)] } ?? [])
        return try await stack.post(stack.billingURL + "/internal/v1/invoices/\(invoiceID)/refunds", json: body, headers: headers)
    }

    /// Two card payments for one new invoice, as two widget sessions make them; with Pay
    /// notifications delayed, both pass the Check and both take the money.
    func chargeOneInvoiceTwice(_ stack: LiveStack) async throws {
        let viewer = try await Viewer.make()
        let checkout = try await stack.post(stack.billingURL + "/v1/checkout", json: ["plan_id": "premium_1m"], headers: [("Authorization", "Bearer \(viewer.token)")])
        let widget = try #require(checkout.json["widget"] as? [String: Any])
        for _ in 0..<2 {
            let charge = try await stack.sandboxAPI("/payments/cards/charge", [
                "Amount": widget["amount"]!, "Currency": "RUB", "InvoiceId": widget["invoiceId"]!, "AccountId": widget["accountId"]!,
                "CardCryptogramPacket": sandboxCryptogram("4000000000003055"),
            ])
            #expect(charge.json["Success"] as? Bool == true)
        }
    }

    /// Waits until a query counts `expected`.
    func eventually(_ stack: LiveStack, _ query: String, equals expected: Int) async throws {
        for _ in 0..<100 {
            if try await stack.database.count(.init(unsafeSQL: query)) == expected { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(query) never counted \(expected)")
    }

    @Test("an operator refunds part, then the rest; the Refund notifications and their repeats add nothing; more is refused")
    func partialThenRest() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                let invoiceID = invoice["id"] as! String
                let part = try await refund(stack, invoiceID, amount: 10000)
                #expect(part.status == 201)
                #expect(part.json["status"] as? String == "refunded")
                #expect(part.json["reason"] as? String == "requested_by_operator")

                // The sandbox's own Refund notification arrives; so does a repeat of it.
                try await eventually(stack, "SELECT count(*)::int FROM acquiring_log WHERE direction = 'notification' AND operation = 'refund'", equals: 1)
                let notification = try #require(try await stack.lastRefundNotification())
                _ = try await stack.post(stack.billingURL + "/webhooks/cloudpayments/refund", form: notification)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 1)

                let tooMuch = try await refund(stack, invoiceID, amount: 29900)
                #expect(tooMuch.status == 422)
                #expect(tooMuch.body.contains("refund-exceeds-payment"))
                let rest = try await refund(stack, invoiceID)
                #expect(rest.status == 201)
                #expect((rest.json["amount"] as? [String: Any])?["amount"] as? Int == 19900)
                #expect(rest.json["status"] as? String == "refunded")
                #expect(try await refund(stack, invoiceID).status == 422, "nothing is left to refund")
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE status = 'refunded'") == 2)
                #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'refund.succeeded'") == 2)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE direction = 'request' AND operation = '/payments/refund'") == 2)
            }
        }
    }

    @Test("two concurrent partial refunds that together exceed the payment: one is refused")
    func concurrentPartialRefunds() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                let invoiceID = invoice["id"] as! String
                async let first = refund(stack, invoiceID, amount: 20000)
                async let second = refund(stack, invoiceID, amount: 20000)
                let statuses = try await [first.status, second.status].sorted()
                #expect(statuses == [201, 422])
                #expect(try await database.count("SELECT COALESCE(sum(amount), 0)::int FROM refunds WHERE status <> 'failed'") == 20000)
            }
        }
    }

    @Test("an operator's refund asked twice with one Idempotency-Key, even at once, is one refund; another amount under it is 422")
    func idempotentRefund() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                let invoiceID = invoice["id"] as! String
                async let first = refund(stack, invoiceID, amount: 5000, key: "ticket-42")
                async let second = refund(stack, invoiceID, amount: 5000, key: "ticket-42")
                let (a, b) = try await (first, second)
                #expect([a.status, b.status] == [201, 201])
                #expect(a.json["id"] as? String == b.json["id"] as? String)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 1)
                let other = try await refund(stack, invoiceID, amount: 6000, key: "ticket-42")
                #expect(other.status == 422)
                #expect(other.body.contains("idempotency-key-reused"))
            }
        }
    }

    @Test("a refund made in the acquirer's dashboard is recorded from its notification")
    func dashboardRefund() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                let transactionID = try #require(try await stack.paymentTransactionID(invoice["id"] as! String))
                let answer = try await stack.sandboxAPI("/payments/refund", ["TransactionId": Int(transactionID)!, "Amount": 50])
                #expect(answer.json["Success"] as? Bool == true)
                try await eventually(stack, "SELECT count(*)::int FROM refunds WHERE reason = 'made_at_acquirer' AND status = 'refunded' AND amount = 5000", equals: 1)
            }
        }
    }

    @Test("two card payments for one invoice through the sandbox: the second is refunded in full")
    func doubleChargeRefunded() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                // Pay notifications come late, so the second Check still finds the invoice open.
                try await stack.setFaults(["notificationDelayMs": 500])
                try await chargeOneInvoiceTwice(stack)
                try await eventually(stack, "SELECT count(*)::int FROM refunds WHERE reason = 'duplicate_charge' AND status = 'refunded' AND amount = 29900", equals: 1)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'paid'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'succeeded'") == 2)
            }
        }
    }

    @Test("a refund the acquirer refuses fails with its message, logged; the money stays with the payment")
    func declinedRefund() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                try await stack.setFaults(["refundDecline": "Not enough money on the terminal"])
                let refused = try await refund(stack, invoice["id"] as! String, amount: 5000)
                #expect(refused.status == 201)
                #expect(refused.json["status"] as? String == "failed")
                #expect(refused.json["failure_message"] as? String == "Not enough money on the terminal")
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE operation = '/payments/refund' AND message = 'Not enough money on the terminal'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'refund.failed'") == 1)

                // A failed refund holds nothing: the whole payment can still be refunded.
                try await stack.setFaults([:])
                let full = try await refund(stack, invoice["id"] as! String)
                #expect((full.json["amount"] as? [String: Any])?["amount"] as? Int == 29900)
                #expect(full.json["status"] as? String == "refunded")
            }
        }
    }

    @Test("a refund whose answer times out stays pending, and reconciliation settles it without refunding twice")
    func timedOutRefund() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                // The sandbox refunds, but answers after our 2 s timeout, and its notification is lost.
                try await stack.setFaults(["refundTimeoutMs": 3000, "dropNotifications": 100])
                let pending = try await refund(stack, invoice["id"] as! String, amount: 10000)
                #expect(pending.status == 201)
                #expect(pending.json["status"] as? String == "pending")

                try await stack.setFaults([:])
                let summary = await stack.reconcile()
                #expect(summary.refundsSent == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE status = 'refunded' AND acquirer_refund_id IS NOT NULL") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 1)
                // The resend carried the same request id, so the acquirer refunded once: the rest of
                // the payment is still there to refund (after a double refund it would be refused).
                let rest = try await refund(stack, invoice["id"] as! String)
                #expect((rest.json["amount"] as? [String: Any])?["amount"] as? Int == 19900)
                #expect(rest.json["status"] as? String == "refunded")
            }
        }
    }

    @Test("a Refund notification that comes before the refund's own answer settles it; the late answer changes nothing")
    func notificationBeforeAnswer() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await purchase(stack)
                // The answer comes after our 2 s timeout; the notification comes at once.
                try await stack.setFaults(["refundTimeoutMs": 3000])
                let answer = try await refund(stack, invoice["id"] as! String, amount: 7000)
                #expect(answer.status == 201)
                try await eventually(stack, "SELECT count(*)::int FROM refunds WHERE status = 'refunded' AND acquirer_refund_id IS NOT NULL AND amount = 7000", equals: 1)
                try await stack.setFaults([:])
                _ = await stack.reconcile()
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'refund.succeeded'") == 1)
            }
        }
    }

    @Test("money we must give back whose refund the acquirer refused is refunded again by reconciliation")
    func refusedAutomaticRefundIsRetried() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                try await stack.setFaults(["notificationDelayMs": 500, "refundDecline": true])
                try await chargeOneInvoiceTwice(stack)
                try await eventually(stack, "SELECT count(*)::int FROM refunds WHERE reason = 'duplicate_charge' AND status = 'failed'", equals: 1)
                let breaches = try await Audit(database: database).run()
                #expect(breaches.map(\.rule) == ["unmatched_money_is_refunded"], "the refused refund shows in the audit until it is retried")

                try await stack.setFaults([:])
                let services = makeBillingServices(cloudPayments: TestServer.configuration(acquirerURL: stack.sandboxURL).cloudPayments, database: database, httpClient: .shared, logger: testLogger)
                let summary = await Reconciliation(services: services, grace: 0, refundRetryAfter: 0).run()
                #expect(summary.refundsRetried == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'duplicate_charge' AND status = 'refunded' AND amount = 29900") == 1)
            }
        }
    }

    @Test("after a saved card is declined, pressing another saved card charges that card, not a replay of the decline")
    func secondSavedCard() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                // A viewer who paid twice before, with a card that now fails by token and with one that works.
                let (viewer, first) = try await stack.purchase(card: "4111111111111111")
                try await database.client.query("UPDATE subscriptions SET status = 'expired'", logger: testLogger)
                let second = try await stack.post(stack.billingURL + "/v1/checkout", json: ["plan_id": "premium_1m"], headers: [("Authorization", "Bearer \(viewer.token)")])
                let widget = try #require(second.json["widget"] as? [String: Any])
                _ = try await stack.sandboxAPI("/payments/cards/charge", [
                    "Amount": widget["amount"]!, "Currency": "RUB", "InvoiceId": widget["invoiceId"]!, "AccountId": widget["accountId"]!,
                    "CardCryptogramPacket": sandboxCryptogram("4000000000003055"), "SaveCard": true,
                ])
                #expect(try await stack.settledInvoice(second.json["invoice_id"] as! String, viewer: viewer)["status"] as? String == "paid")
                #expect(first["status"] as? String == "paid")
                try await database.client.query("UPDATE subscriptions SET status = 'expired'", logger: testLogger)

                let third = try await stack.post(stack.billingURL + "/v1/checkout", json: ["plan_id": "premium_3m"], headers: [("Authorization", "Bearer \(viewer.token)")])
                let invoiceID = try #require(third.json["invoice_id"] as? String)
                let token = try #require(pageToken(third.json["payment_url"] as? String))
                let cards = try await database.read { try await PaymentMethodRepository().cards(userID: viewer.id, on: $0) }
                let failing = try #require(cards.first { $0.lastFour == "1111" })
                let working = try #require(cards.first { $0.lastFour == "3055" })
                let url = stack.billingURL + "/pay/\(invoiceID)/saved-card"
                let declined = try await stack.post(url, json: ["payment_method_id": failing.id.lowercased], headers: [("X-Page-Token", token)])
                #expect(declined.json["status"] as? String == "declined")
                let paid = try await stack.post(url, json: ["payment_method_id": working.id.lowercased], headers: [("X-Page-Token", token)])
                #expect(paid.json["status"] as? String == "paid", "\(paid.body)")
            }
        }
    }

    @Test("a dashboard refund's notification taken for ours while our call was in flight is booked as the dashboard's once our answer disagrees")
    func notificationOfAnotherRefund() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (viewer, invoice) = try await purchase(stack)
                let invoiceID = invoice["id"] as! String
                let payment = try #require(try await stack.paymentTransactionID(invoiceID))
                // 150.00 refunded in the dashboard; its notification is held back for now.
                try await stack.setFaults(["dropNotifications": 100])
                let dashboard = try await stack.sandboxAPI("/payments/refund", ["TransactionId": Int(payment)!, "Amount": 150])
                let dashboardID = try #require((dashboard.json["Model"] as? [String: Any])?["TransactionId"] as? Int)
                // Our refund of 150.00 is refused (only 149.00 is left), and the refusal takes 1.5 s.
                try await stack.setFaults(["dropNotifications": 100, "refundTimeoutMs": 1500])
                async let ours = refund(stack, invoiceID, amount: 15000)
                // Meanwhile the dashboard's notification arrives: same amount, so it is taken for ours.
                try await eventually(stack, "SELECT count(*)::int FROM refunds WHERE status = 'pending'", equals: 1)
                let fields = Notifications.refundFields(paymentTransactionID: payment, refundTransactionID: String(dashboardID), amount: "150.00", invoiceID: invoiceID, accountID: viewer.account)
                _ = try await stack.post(stack.billingURL + "/webhooks/cloudpayments/refund", form: fields)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE status = 'refunded'") == 1)

                // Our answer, the refusal, then shows whose refund that was: ours failed, the dashboard's recorded.
                let answer = try await ours
                #expect(answer.json["status"] as? String == "failed")
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'requested_by_operator' AND status = 'failed' AND acquirer_refund_id IS NULL") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'made_at_acquirer' AND status = 'refunded' AND acquirer_refund_id = \(String(dashboardID))") == 1)
            }
        }
    }
}
