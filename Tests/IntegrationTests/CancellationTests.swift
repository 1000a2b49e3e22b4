import Billing
import BillingCore
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// A viewer cancels: the quote, one cancellation and one refund however often it is asked,
/// resuming, and a refused refund retried; against the sandbox over HTTP and a real PostgreSQL.
/// Every test ends with the audit (`withTestDatabase`).
@Suite("Cancelling a subscription")
struct CancellationTests {
    func call(_ stack: LiveStack, _ method: String, _ path: String, _ viewer: Viewer, json: [String: Any]? = nil, key: String? = nil) async throws -> LiveStack.Exchange {
        let headers = [("Authorization", "Bearer \(viewer.token)")] + (key.map { [("Idempotency-Key", $0)] } ?? [])
        return switch method {
        case "POST": try await stack.post(stack.billingURL + path, json: json ?? [:], headers: headers)
        case "PUT": try await stack.put(stack.billingURL + path, json: json ?? [:], headers: headers)
        default: try await stack.get(stack.billingURL + path, headers: headers)
        }
    }

    func refundAmount(_ body: [String: Any]) -> Int? {
        (body["refund"] as? [String: Any])?["amount"] as? Int
    }

    /// Polls the cancellation until its refund has an outcome.
    func settled(_ stack: LiveStack, _ viewer: Viewer) async throws -> [String: Any] {
        for _ in 0..<100 {
            let body = try await call(stack, "GET", "/v1/subscription/cancellation", viewer).json
            if body["refund_status"] as? String != "pending" { return body }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LiveStackError(message: "the cancellation's refund did not settle")
    }

    @Test("ten concurrent cancels, with keys and without, make one cancellation and one refund: all back within the first hour, access ends")
    func concurrentCancels() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (viewer, invoice) = try await stack.purchase()
                let quote = try await call(stack, "GET", "/v1/subscription/cancellation", viewer)
                #expect(quote.status == 200)
                #expect(quote.json["state"] as? String == "quote")
                #expect(quote.json["rule"] as? String == "within_first_hour")
                #expect(refundAmount(quote.json) == 29900)
                let message = try #require(quote.json["message"] as? [String: String])
                #expect(message["en"]?.contains("RUB 299.00") == true)
                #expect(message["ru"]?.contains("299,00 ₽") == true)

                let answers = try await withThrowingTaskGroup(of: LiveStack.Exchange.self) { group in
                    for index in 0..<10 {
                        group.addTask {
                            try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true, "expected_refund": 29900], key: index % 3 == 0 ? nil : "cancel-\(index % 2)")
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(answers.map(\.status) == Array(repeating: 200, count: 10), "\(answers.map(\.body))")
                #expect(Set(answers.compactMap { $0.json["state"] as? String }) == ["canceled"])
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'cancellation' AND amount = 29900") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE direction = 'request' AND operation = '/payments/refund'") == 1)

                let done = try await settled(stack, viewer)
                #expect(done["refund_status"] as? String == "refunded")
                #expect((done["message"] as? [String: String])?["en"]?.contains("has been refunded") == true)
                #expect(try await stack.entitled(viewer) == false)
                let invoiceID = try #require(invoice["id"] as? String)
                #expect(try await stack.get(stack.billingURL + "/pay/\(invoiceID)/status").json["status"] as? String == "refunded", "the payment page no longer says paid")
                let subscription = try #require(try await call(stack, "GET", "/v1/subscription", viewer).json["subscription"] as? [String: Any])
                #expect(subscription["status"] as? String == "expired", "access refunded in full ends at once")
                #expect((subscription["cancellation"] as? [String: Any])?["access_until"] != nil)
                for (type, count) in [("subscription.canceled", 1), ("refund.succeeded", 1), ("subscription.expired", 1)] {
                    #expect(try await database.count(.init(unsafeSQL: "SELECT count(*)::int FROM outbox_events WHERE type = '\(type)'")) == count, "\(type)")
                }
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity = 'subscription' AND event IN ('cancel', 'expire')") == 2)
            }
        }
    }

    @Test("after the first hour a 1-month plan refunds nothing, keeps access to the period's end, and can be resumed; a changed quote is refused")
    func cancelThenResume() async throws {
        let clock = OffsetClock()
        try await withTestDatabase { database in
            try await LiveStack.run(database: database, clock: clock.billingClock) { stack in
                let (viewer, invoice) = try await stack.purchase()
                let periodEnd = try #require((invoice["period"] as? [String: Any])?["end"] as? String)
                let renewOn = try await call(stack, "PUT", "/v1/subscription/auto-renew", viewer, json: ["enabled": true])
                #expect(renewOn.status == 200)
                #expect((renewOn.json["subscription"] as? [String: Any])?["auto_renew"] as? Bool == true)

                // The viewer saw "all back" and confirms two hours later: the quote has changed.
                clock.advance(by: 2 * 3600)
                let stale = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true, "expected_refund": 29900])
                #expect(stale.status == 409)
                #expect(stale.body.contains("quote-changed"))
                let quote = try await call(stack, "GET", "/v1/subscription/cancellation", viewer).json
                #expect(quote["rule"] as? String == "nothing_unused")
                #expect(refundAmount(quote) == 0)
                #expect(quote["access_until"] as? String == periodEnd)

                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true, "expected_refund": 0], key: "first")
                #expect(cancelled.status == 200)
                #expect(cancelled.json["refund_status"] as? String == "none")
                #expect(cancelled.json["can_resume"] as? Bool == true)
                #expect(try await stack.entitled(viewer) == true, "a cancelled subscription entitles until its access date")
                let after = try #require(try await call(stack, "GET", "/v1/subscription", viewer).json["subscription"] as? [String: Any])
                #expect(after["status"] as? String == "canceled")
                #expect(after["auto_renew"] as? Bool == false)
                #expect(try await call(stack, "PUT", "/v1/subscription/auto-renew", viewer, json: ["enabled": true]).status == 409)

                let resumed = try await call(stack, "POST", "/v1/subscription/resume", viewer)
                #expect(resumed.status == 200)
                let active = try #require(resumed.json["subscription"] as? [String: Any])
                #expect(active["status"] as? String == "active")
                #expect(active["auto_renew"] as? Bool == true, "renewal is back as it was")
                #expect(active["cancellation"] is NSNull)
                #expect((active["current_period"] as? [String: Any])?["end"] as? String == periodEnd)
                #expect(try await call(stack, "POST", "/v1/subscription/resume", viewer).status == 200, "resuming an active subscription changes nothing")
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity = 'subscription' AND event = 'resume'") == 1)

                // The first cancel retried with its key answers with that (resumed) cancellation, not a new one.
                let retried = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true], key: "first")
                #expect(retried.status == 200)
                #expect(retried.json["state"] as? String == "canceled")
                #expect(retried.json["resumed_at"] is String)
                #expect(try #require(try await call(stack, "GET", "/v1/subscription", viewer).json["subscription"] as? [String: Any])["status"] as? String == "active", "the repeat does not cancel again")
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 1)
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true], key: "second").status == 200)
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 2)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 0)
            }
        }
    }

    @Test("a refund the acquirer refuses shows as failed, we will retry; reconciliation refunds it once")
    func refusedRefundIsRetried() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (viewer, _) = try await stack.purchase()
                try await stack.setFaults(["refundDecline": "Not enough money on the terminal"])
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancelled.status == 200)
                #expect(cancelled.json["refund_status"] as? String == "failed")
                #expect((cancelled.json["message"] as? [String: String])?["en"]?.contains("failed; we will retry") == true)
                #expect((cancelled.json["message"] as? [String: String])?["ru"]?.contains("мы повторим попытку") == true)
                #expect(try await stack.entitled(viewer) == false)

                #expect(await stack.reconcile().refundsRetried == 0, "not before the retry delay")
                try await stack.setFaults([:])
                let summary = await stack.reconcile(refundRetryAfter: 0)
                #expect(summary.refundsRetried == 1)
                let done = try await settled(stack, viewer)
                #expect(done["refund_status"] as? String == "refunded")
                #expect((done["refunds"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == ["failed", "refunded"])
                #expect(await stack.reconcile(refundRetryAfter: 0).refundsRetried == 0, "nothing is owed any more")
                #expect(try await database.count("SELECT COALESCE(sum(amount), 0)::int FROM refunds WHERE status = 'refunded'") == 29900)
            }
        }
    }

    func operatorRefund(_ stack: LiveStack, _ invoiceID: String, amount: Int? = nil) async throws -> LiveStack.Exchange {
        var body: [String: Any] = ["reason": "goodwill"]
        body["amount"] = amount
        return try await stack.post(stack.billingURL + "/internal/v1/invoices/\(invoiceID)/refunds", json: body, headers: [("Authorization", "Bearer \(TestServer.internalToken)")])
    }

    @Test("while another refund of the payment waits for the acquirer, cancel is 409 (it may yet fail); once it fails, the quote gives everything back")
    func cancelWaitsForAPendingRefund() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (viewer, invoice) = try await stack.purchase()
                try await stack.setFaults(["apiErrorRate": 1])
                let pending = try await operatorRefund(stack, invoice["id"] as! String)
                #expect(pending.json["status"] as? String == "pending")
                let quote = try await call(stack, "GET", "/v1/subscription/cancellation", viewer)
                #expect(quote.status == 409)
                #expect(quote.body.contains("refund-in-progress"))
                let cancel = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancel.status == 409)
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 0)

                // The operator's refund is refused: all of the payment is still there to give back.
                try await stack.setFaults(["refundDecline": "Not enough money on the terminal"])
                _ = await stack.reconcile()
                try await stack.setFaults([:])
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancelled.status == 200)
                #expect(refundAmount(cancelled.json) == 29900)
                #expect(try await settled(stack, viewer)["refund_status"] as? String == "refunded")
            }
        }
    }

    @Test("a refund left without an outcome past its resend window no longer blocks cancelling: it counts as given back, and the audit lists it for an operator")
    func staleRefundDoesNotBlockForever() async throws {
        let clock = OffsetClock()
        try await withTestDatabase(audit: false) { database in
            try await LiveStack.run(database: database, clock: clock.billingClock) { stack in
                let (viewer, invoice) = try await stack.purchase()
                try await stack.setFaults(["apiErrorRate": 1])
                #expect(try await operatorRefund(stack, invoice["id"] as! String, amount: 10000).json["status"] as? String == "pending")
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true]).status == 409)
                clock.advance(by: 51 * 60)
                try await stack.setFaults([:])
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancelled.status == 200)
                #expect(cancelled.json["rule"] as? String == "within_first_hour")
                #expect(refundAmount(cancelled.json) == 19900, "the stale refund's 100.00 counts as given back")
                // Whatever the stale refund's fate, nothing more goes back than was paid.
                #expect(try await database.count("SELECT COALESCE(sum(amount), 0)::int FROM refunds WHERE status <> 'failed'") <= 29900)
                try await database.client.query("UPDATE refunds SET created_at = created_at - interval '2 days'", logger: testLogger)
                #expect(try await Audit(database: database).run().map(\.rule) == ["refund_settled_within_a_day"])
            }
        }
    }

    @Test("a Refund notification taken for the cancellation's refund of the same amount, but an operator's: the operator's answer puts it right, and the cancellation's is sent again")
    func crossedRefundsOfOneAmount() async throws {
        let clock = OffsetClock()
        try await withTestDatabase { database in
            try await LiveStack.run(database: database, clock: clock.billingClock) { stack in
                let (viewer, invoice) = try await stack.purchase(plan: "premium_12m")
                let invoiceID = invoice["id"] as! String
                clock.advance(by: 186 * 86_400)
                // The cancellation's refund never reaches the acquirer (its API answers 500).
                try await stack.setFaults(["apiErrorRate": 1])
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                let owed = try #require(refundAmount(cancelled.json))
                #expect(owed == 269000 * 5 / 12)
                #expect(cancelled.json["refund_status"] as? String == "pending")
                // An operator refunds the same amount; its answer comes too late (our client gives up
                // after 2 s), its Refund notification does come, and matches the older refund by amount.
                try await stack.setFaults(["refundTimeoutMs": 3000])
                #expect(try await operatorRefund(stack, invoiceID, amount: owed).json["status"] as? String == "pending")
                try await eventuallyCount(stack, "SELECT count(*)::int FROM refunds WHERE status = 'refunded'", 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE status = 'refunded' AND reason = 'cancellation'") == 1, "taken for the cancellation's")
                try await stack.setFaults([:])

                // Reconciliation resends the operator's refund: the acquirer replays its answer, whose
                // refund id shows whose notification that was; then the cancellation's goes out.
                _ = await stack.reconcile()
                _ = await stack.reconcile()
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE status = 'refunded'") == 2)
                #expect(try await database.count("SELECT count(DISTINCT acquirer_refund_id)::int FROM refunds WHERE acquirer_refund_id IS NOT NULL") == 2)
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity = 'refund' AND event = 'misattributed'") == 1)
                #expect(try await settled(stack, viewer)["refund_status"] as? String == "refunded")
                // The acquirer holds what the books say: twice the amount refunded, the rest still there.
                let transactionID = try #require(try await stack.paymentTransactionID(invoiceID))
                let more = try await stack.sandboxAPI("/payments/refund", ["TransactionId": Int(transactionID)!, "Amount": Double(269000 - 2 * owed) / 100 + 0.01])
                #expect(more.json["Success"] as? Bool == false, "\(more.body)")
            }
        }
    }

    @Test("a refund without an outcome is sent again only within the acquirer's hour of replaying its answer; later the audit flags it instead")
    func noResendAfterTheReplayWindow() async throws {
        let clock = OffsetClock()
        try await withTestDatabase(audit: false) { database in
            try await LiveStack.run(database: database, clock: clock.billingClock) { stack in
                let (viewer, _) = try await stack.purchase()
                try await stack.setFaults(["refundTimeoutMs": 3000, "dropNotifications": 100])
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancelled.json["refund_status"] as? String == "pending")
                clock.advance(by: 2 * 3600)
                let summary = await stack.reconcile()
                #expect(summary.refundsSent == 0)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE direction = 'request' AND operation = '/payments/refund'") == 1)
                try await database.client.query("UPDATE refunds SET created_at = created_at - interval '2 days'", logger: testLogger)
                #expect(try await Audit(database: database).run().map(\.rule) == ["refund_settled_within_a_day"])
                try await stack.setFaults([:])
            }
        }
    }

    func eventuallyCount(_ stack: LiveStack, _ query: String, _ expected: Int) async throws {
        for _ in 0..<100 {
            if try await stack.database.count(.init(unsafeSQL: query)) == expected { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(query) never counted \(expected)")
    }

    @Test("12 months cancelled 3.5 months in: 8 months back, rounded down to the kopeck; access to the end of month 4")
    func twelveMonths() async throws {
        let clock = OffsetClock()
        try await withTestDatabase { database in
            try await LiveStack.run(database: database, clock: clock.billingClock) { stack in
                let (viewer, invoice) = try await stack.purchase(plan: "premium_12m")
                let start = try #require(((invoice["period"] as? [String: Any])?["start"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                clock.advance(by: 106 * 86_400)
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancelled.json["rule"] as? String == "unused_months")
                #expect(cancelled.json["unused_months"] as? Int == 8)
                #expect(refundAmount(cancelled.json) == 269000 * 8 / 12)
                let accessUntil = try #require((cancelled.json["access_until"] as? String).flatMap { try? Date($0, strategy: .iso8601) })
                #expect(abs(accessUntil.timeIntervalSince(BillingPeriod(start: start, months: 4).end)) < 1)
                #expect(try await settled(stack, viewer)["refund_status"] as? String == "refunded")
                #expect(try await stack.entitled(viewer) == true, "access lasts to the end of month 4")
                #expect(try await call(stack, "POST", "/v1/subscription/resume", viewer).body.contains("cannot-resume"))
            }
        }
    }

    @Test("policy none: nothing back even in the first hour, access to the period's end")
    func policyNone() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database, refundPolicy: .none) { stack in
                let (viewer, _) = try await stack.purchase()
                let cancelled = try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true])
                #expect(cancelled.json["policy"] as? String == "none")
                #expect(cancelled.json["rule"] as? String == "no_refunds")
                #expect(refundAmount(cancelled.json) == 0)
                #expect(try await stack.entitled(viewer) == true)
                #expect(try await database.count("SELECT count(*)::int FROM refunds") == 0)
            }
        }
    }

    @Test("bad requests: no subscription 404, unconfirmed or mistyped 422, a bad key 400, unpaid 409")
    func badRequests() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let stranger = try await Viewer.make()
                #expect(try await call(stack, "GET", "/v1/subscription/cancellation", stranger).status == 404)
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", stranger, json: ["confirm": true]).status == 404)
                #expect(try await call(stack, "POST", "/v1/subscription/resume", stranger).status == 404)
                #expect(try await call(stack, "PUT", "/v1/subscription/auto-renew", stranger, json: ["enabled": false]).status == 404)

                let (viewer, _) = try await stack.purchase()
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": false]).status == 422)
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": "yes"]).status == 422)
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: [:]).status == 422)
                #expect(try await call(stack, "PUT", "/v1/subscription/auto-renew", viewer, json: ["enabled": 1]).status == 422)
                #expect(try await call(stack, "POST", "/v1/subscription/cancel", viewer, json: ["confirm": true], key: "bad key").status == 400)
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 0)

                let unpaid = try await Viewer.make()
                _ = try await stack.post(stack.billingURL + "/v1/checkout", json: ["plan_id": "premium_1m"], headers: [("Authorization", "Bearer \(unpaid.token)")])
                let pending = try await call(stack, "POST", "/v1/subscription/cancel", unpaid, json: ["confirm": true])
                #expect(pending.status == 409)
                #expect(pending.body.contains("subscription-not-cancelable"))
            }
        }
    }
}

/// The account page: nothing without its link, reached from the paid payment page, and its cancel
/// form acting once however often it is sent.
@Suite("The account page")
struct AccountPageTests {
    /// The value of a hidden form field in a page.
    func field(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: #"name="\#(name)" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test("without a current link it is 403; from the paid payment page it opens; its cancel form cancels once, and only from our origin")
    func accountPage() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database, setup: .router) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "970001"), client: client)
                let link = try json(try await client.execute(uri: "/v1/invoices/\(invoiceID)", method: .get, headers: viewer.headers).body)["payment_url"] as? String
                let token = try #require(pageToken(link))
                let user = viewer.id.lowercased

                #expect(try await client.execute(uri: "/account/\(user)", method: .get).status == .forbidden)
                #expect(try await client.execute(uri: "/account/\(user)?t=\(PageTokenForTests.expired(invoiceID: invoiceID))", method: .get).status == .forbidden)
                #expect(try await client.execute(uri: "/account/not-a-uuid?t=1.x", method: .get).status == .forbidden)
                #expect(try await client.execute(uri: "/pay/\(invoiceID)/account", method: .get).status == .forbidden)
                // The payment page's own token does not open the account.
                #expect(try await client.execute(uri: "/account/\(user)?t=\(token)", method: .get).status == .forbidden)

                let paid = String(buffer: try await client.execute(uri: "/pay/\(invoiceID)?t=\(token)&lang=en", method: .get).body)
                #expect(paid.contains("/pay/\(invoiceID)/account?t="))
                let hop = try await client.execute(uri: "/pay/\(invoiceID)/account?t=\(token)&lang=en", method: .get)
                #expect(hop.status == .seeOther)
                let location = try #require(hop.headers[.location])
                #expect(location.hasPrefix("http://billing.test/account/\(user)?t="))
                let accountURI = String(location.dropFirst("http://billing.test".count))
                // Passing from the payment page to the account never makes a link live longer.
                let expiry = { (token: String?) in token?.split(separator: ".").first.map(String.init) }
                #expect(expiry(pageToken(location)) == expiry(token))

                let page = try await client.execute(uri: accountURI, method: .get)
                #expect(page.status == .ok)
                #expect(page.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin")
                let html = String(buffer: page.body)
                #expect(html.contains("Movix Premium, 1 month"))
                #expect(html.contains(#"data-status="active""#))
                #expect(html.contains("You paid less than an hour ago, so all of it comes back: RUB 299.00"))
                let accountToken = try #require(field("page_token", in: html))
                let requestID = try #require(field("request_id", in: html))

                let form = "page_token=\(accountToken)&confirm=yes&expected_refund=29900&request_id=\(requestID)"
                let foreign = try await client.execute(uri: "/account/\(user)/cancel", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"], body: ByteBuffer(string: form))
                #expect(foreign.status == .forbidden)
                let forged = try await client.execute(uri: "/account/\(user)/cancel", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "page_token=1.forged&confirm=yes"))
                #expect(forged.status == .forbidden)
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 0)

                for _ in 0..<2 {
                    let sent = try await client.execute(uri: "/account/\(user)/cancel?lang=en", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "http://billing.test"], body: ByteBuffer(string: form))
                    #expect(sent.status == .seeOther)
                    #expect(expiry(pageToken(sent.headers[.location])) == expiry(token), "acting does not extend the link")
                }
                #expect(try await database.count("SELECT count(*)::int FROM cancellations") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'cancellation'") == 1)
                let after = String(buffer: try await client.execute(uri: accountURI, method: .get).body)
                #expect(after.contains("Subscription cancelled."))
                #expect(after.contains(#"id="cancellation""#))
                #expect(!after.contains(#"id="confirm-cancel""#), "nothing left to cancel")
                let status = try json(try await client.execute(uri: "/account/\(user)/cancellation?t=\(accountToken)", method: .get).body)
                #expect(status["state"] as? String == "canceled")

                // Money went back, so the cancellation cannot be taken back: the page says so
                // instead of handing the browser a problem document.
                let resume = try await client.execute(uri: "/account/\(user)/resume?lang=en", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: "page_token=\(accountToken)"))
                #expect(resume.status == .seeOther)
                let back = try #require(resume.headers[.location])
                #expect(back.hasSuffix("&note=refused"))
                let refusedPage = String(buffer: try await client.execute(uri: String(back.dropFirst("http://billing.test".count)), method: .get).body)
                #expect(refusedPage.contains(#"id="refused""#))
            }
        }
    }

    @Test("the audit finds a cancellation refunding more than it owes, and cancelled access running past its date")
    func auditOfCancellations() async throws {
        try await withTestDatabase(audit: false) { database in
            try await TestServer.run(database: database, setup: .router) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, transactionID: "970101"), client: client)
                let cancel = try await client.execute(uri: "/v1/subscription/cancel", method: .post, headers: viewer.headers, body: ByteBuffer(string: #"{"confirm":true}"#))
                #expect(cancel.status == .ok)
                #expect(try await Audit(database: database).run().isEmpty)

                try await database.client.query("UPDATE cancellations SET refund_amount = 100", logger: testLogger)
                try await database.client.query("""
                    UPDATE subscriptions s SET status = 'canceled', current_period_end = c.access_until + interval '1 day'
                    FROM cancellations c WHERE c.subscription_id = s.id
                    """, logger: testLogger)
                #expect(Set(try await Audit(database: database).run().map(\.rule)) == ["cancellation_refunds_within_quote", "canceled_access_ends_as_quoted"])
            }
        }
    }
}
