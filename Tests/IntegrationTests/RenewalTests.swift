import Billing
import BillingCore
import Foundation
import PostgresNIO
import Storage
import Testing

/// Automatic renewals on a real PostgreSQL, the sandbox acquirer over HTTP and a clock the test
/// moves: the worker's jobs charge saved cards once per period, chase soft declines, stop on hard
/// ones, and end access after the grace. Every test ends with the audit (`withTestDatabase`).
@Suite("Renewals")
struct RenewalTests {
    /// A subscription as its row says.
    struct Row {
        var status: String
        var start: Date
        var end: Date
        var graceUntil: Date?
        var autoRenew: Bool
    }

    /// A Luhn-valid card the sandbox does not list, so its holder name picks its behaviour.
    static let unlistedCard = "4000000000000002"

    func subscription(of viewer: Viewer, in database: Database) async throws -> Row {
        let rows = try await database.client.query("""
            SELECT status, current_period_start, current_period_end, grace_until, auto_renew
            FROM subscriptions WHERE user_id = \(viewer.id) ORDER BY created_at DESC LIMIT 1
            """, logger: testLogger)
        for try await (status, start, end, grace, autoRenew) in rows.decode((String, Date, Date, Date?, Bool).self) {
            return Row(status: status, start: start, end: end, graceUntil: grace, autoRenew: autoRenew)
        }
        throw LiveStackError(message: "no subscription for \(viewer.id)")
    }

    func subscriptionID(of viewer: Viewer, in database: Database) async throws -> UUID {
        for try await id in try await database.client.query(
            "SELECT id FROM subscriptions WHERE user_id = \(viewer.id) ORDER BY created_at DESC LIMIT 1", logger: testLogger
        ).decode(UUID.self) { return id }
        throw LiveStackError(message: "no subscription for \(viewer.id)")
    }

    /// The viewer's renewal invoices, earliest period first: (id, status, period start, period end, failure code).
    func renewals(of viewer: Viewer, in database: Database) async throws -> [(id: UUID, status: String, start: Date, end: Date, failure: Int?)] {
        var found: [(UUID, String, Date, Date, Int?)] = []
        let rows = try await database.client.query("""
            SELECT id, status, period_start, period_end, failure_code FROM invoices
            WHERE user_id = \(viewer.id) AND kind = 'renewal' ORDER BY period_start, created_at
            """, logger: testLogger)
        for try await row in rows.decode((UUID, String, Date, Date, Int?).self) { found.append(row) }
        return found.map { (id: $0.0, status: $0.1, start: $0.2, end: $0.3, failure: $0.4) }
    }

    /// The live stack on a fresh database with a clock the test moves; the audit runs after.
    func onItsOwnClock(refundPolicy: RefundPolicy = .prorated, _ body: @Sendable (LiveStack, OffsetClock, Database) async throws -> Void) async throws {
        try await withTestDatabase { database in
            let clock = OffsetClock()
            try await LiveStack.run(database: database, clock: clock.billingClock, refundPolicy: refundPolicy) { stack in
                try await body(stack, clock, database)
            }
        }
    }

    /// Runs what is due, then waits until the viewer's renewal charges have their outcome: on a
    /// loaded machine a charge's answer can miss our 2 s timeout, and its notification then
    /// settles it a moment later.
    func runDue(_ worker: JobRunner, settling viewer: Viewer, in database: Database) async throws {
        try await worker.drain()
        _ = try await eventually { try await !renewals(of: viewer, in: database).contains { $0.status == "pending" } }
    }

    /// A minute past the time the renewal of a period ending at `end` is charged.
    func pastCharge(of end: Date) -> Date {
        RenewalTerms.standard.chargeAt(periodEnd: end).addingTimeInterval(60)
    }

    /// Pays a card check with `card` through the sandbox, as its widget would.
    func payCardCheck(_ invoiceID: String, for viewer: Viewer, card: String, on stack: LiveStack) async throws -> LiveStack.Exchange {
        try await stack.sandboxAPI("/payments/cards/charge", [
            "Amount": "1.00", "Currency": "RUB", "InvoiceId": invoiceID, "AccountId": viewer.account,
            "Description": "Card check", "CardCryptogramPacket": sandboxCryptogram(card), "SaveCard": true,
        ])
    }

    /// Moves the clock to `date` (never back).
    func advance(_ clock: OffsetClock, to date: Date) {
        clock.advance(by: max(0, date.timeIntervalSince(clock.now())))
    }

    /// The anchor plus whole calendar months, as Foundation's Gregorian calendar counts them in
    /// UTC (31 January + 1 month = 28 February): an oracle independent of `BillingPeriod`.
    func months(_ count: Int, after anchor: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(byAdding: .month, value: count, to: anchor)!
    }

    func closeEnough(_ a: Date, _ b: Date) -> Bool { abs(a.timeIntervalSince(b)) < 0.001 }

    @Test("a renewal is announced three days before its charge, saying when, how much and which card; not once renewal is off")
    func renewalNotice() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, first) = try await stack.purchase()
            let (quitter, _) = try await stack.purchase()
            let off = try await stack.put(stack.billingURL + "/v1/subscription/auto-renew", json: ["enabled": false], headers: [("Authorization", "Bearer \(quitter.token)")])
            #expect(off.status == 200, "\(off.body)")
            let worker = stack.worker("worker-n")
            let end = try await subscription(of: viewer, in: database).end
            let noticeAt = RenewalTerms.standard.noticeAt(periodEnd: end)
            func notices(_ viewer: Viewer) async throws -> [String] {
                var payloads: [String] = []
                for try await payload in try await database.client.query(
                    "SELECT payload::text FROM outbox_events WHERE type = 'subscription.renewal_upcoming' AND user_id = \(viewer.id)", logger: testLogger
                ).decode(String.self) { payloads.append(payload) }
                return payloads
            }

            advance(clock, to: noticeAt.addingTimeInterval(-60))
            try await worker.drain()
            #expect(try await notices(viewer).isEmpty)
            advance(clock, to: noticeAt.addingTimeInterval(60))
            try await worker.drain()
            let sent = try await notices(viewer)
            #expect(sent.count == 1)
            let payload = try #require(sent.first)
            let data = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any])
            let renewal = try #require(data["renewal"] as? [String: Any])
            let chargeAt = try #require((renewal["charge_at"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) })
            #expect(abs(chargeAt.timeIntervalSince(RenewalTerms.standard.chargeAt(periodEnd: end))) < 0.001)
            #expect((renewal["amount"] as? [String: Any])?["amount"] as? Int == (first["amount"] as? [String: Any])?["amount"] as? Int)
            #expect((renewal["card"] as? [String: Any])?["last_four"] as? String == "3055")
            #expect((data["subscription"] as? [String: Any])?["auto_renew"] as? Bool == true)
            #expect(try await notices(quitter).isEmpty, "renewal off: nothing to announce")
            // Run again, as after a worker that died before it marked the job done: still one notice.
            try await database.client.query("""
                UPDATE jobs SET done_at = NULL, leased_by = NULL, leased_until = NULL, run_at = \(clock.now())
                WHERE kind = 'renewal_notice' AND key LIKE \(try await subscriptionID(of: viewer, in: database).lowercased + "/%")
                """, logger: testLogger).collect()
            try await worker.drain()
            #expect(try await notices(viewer).count == 1, "announced once")
        }
    }

    @Test("a year of renewals: each charged by token once, merchant-initiated, a day before its period ends; periods follow the anchor without gap or overlap; running again charges nothing")
    func aYearOfRenewals() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, first) = try await stack.purchase()
            #expect(first["status"] as? String == "paid")
            let paid = try await subscription(of: viewer, in: database)
            #expect(paid.autoRenew, "a payment that saved the card turns renewal on")
            let anchor = paid.start
            let worker = stack.worker("worker-a")

            for month in 1...12 {
                let end = try await subscription(of: viewer, in: database).end
                // An hour before the charge is due, nothing happens.
                advance(clock, to: end.addingTimeInterval(-25 * 3600))
                try await runDue(worker, settling: viewer, in: database)
                #expect(try await renewals(of: viewer, in: database).count == month - 1)
                advance(clock, to: pastCharge(of: end))
                try await runDue(worker, settling: viewer, in: database)

                let issued = try await renewals(of: viewer, in: database)
                #expect(issued.count == month)
                let renewal = try #require(issued.last)
                #expect(renewal.status == "paid")
                #expect(closeEnough(renewal.start, end), "the renewal starts where the paid period ends")
                #expect(closeEnough(renewal.end, months(month + 1, after: anchor)), "month \(month) ends on the anchor's day")
                let now = try await subscription(of: viewer, in: database)
                #expect(now.status == "active")
                #expect(closeEnough(now.start, anchor))
                #expect(closeEnough(now.end, renewal.end))
                #expect(now.graceUntil == nil)
            }
            try await runDue(worker, settling: viewer, in: database)
            #expect(try await renewals(of: viewer, in: database).count == 12, "nothing more is due")
            #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'subscription.renewed'") == 12)

            var charges: [String] = []
            for try await payload in try await database.client.query(
                "SELECT payload FROM acquiring_log WHERE operation = '/payments/tokens/charge' ORDER BY id", logger: testLogger
            ).decode(String.self) {
                charges.append(payload)
            }
            #expect(charges.count == 12, "one charge per period")
            #expect(charges.allSatisfy { $0.contains("TrInitiatorCode=0") && $0.contains("PaymentScheduled=1") }, "renewals are merchant-initiated and scheduled")
            #expect(!charges.contains { $0.contains("sbx_tok_") }, "the token is not logged")

            // The database refuses a second renewal invoice for a period, whoever tries.
            let period = try #require(try await renewals(of: viewer, in: database).first)
            await #expect(throws: PSQLError.self) {
                try await database.client.query("""
                    INSERT INTO invoices (id, user_id, subscription_id, plan_id, kind, amount, currency, status, acquirer, period_start, period_end)
                    SELECT gen_random_uuid(), user_id, subscription_id, plan_id, 'renewal', amount, currency, 'failed', acquirer, period_start, period_end
                    FROM invoices WHERE id = \(period.id)
                    """, logger: testLogger)
            }
        }
    }

    @Test("a soft decline: retried on the schedule, past due from the period's end with access through the grace, then expired and its invoice closed")
    func softDecline() async throws {
        try await onItsOwnClock { stack, clock, database in
            // Approved at checkout, then "insufficient funds" (5051, soft) on every renewal.
            let (viewer, _) = try await stack.purchase(card: Self.unlistedCard, holder: "TOKEN DECLINE 5051")
            let worker = stack.worker("worker-a")
            let end = try await subscription(of: viewer, in: database).end

            advance(clock, to: pastCharge(of: end))
            try await runDue(worker, settling: viewer, in: database)
            var renewal = try #require(try await renewals(of: viewer, in: database).first)
            #expect(renewal.status == "created")
            #expect(renewal.failure == 5051)
            var row = try await subscription(of: viewer, in: database)
            #expect(row.status == "active")
            #expect(row.graceUntil.map { closeEnough($0, end.addingTimeInterval(3 * 86_400)) } == true)
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'dunning_retry' AND done_at IS NULL") == 1)

            advance(clock, to: end.addingTimeInterval(30))
            try await runDue(worker, settling: viewer, in: database)
            row = try await subscription(of: viewer, in: database)
            #expect(row.status == "past_due")
            #expect(try await stack.entitled(viewer) == true, "past due keeps access during the grace")

            // Retry 1 a day after the first failure, retry 2 at three days; the five-day one
            // would fall after the grace, so there is none.
            advance(clock, to: end.addingTimeInterval(120))
            try await runDue(worker, settling: viewer, in: database)
            advance(clock, to: end.addingTimeInterval(2 * 86_400 + 120))
            try await runDue(worker, settling: viewer, in: database)
            #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE invoice_id = \(renewal.id) AND status = 'declined'") == 3)
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'dunning_retry' AND done_at IS NULL") == 0)
            #expect(try await stack.entitled(viewer) == true)

            advance(clock, to: end.addingTimeInterval(3 * 86_400 + 1))
            try await runDue(worker, settling: viewer, in: database)
            row = try await subscription(of: viewer, in: database)
            #expect(row.status == "expired")
            #expect(try await stack.entitled(viewer) == false)
            renewal = try #require(try await renewals(of: viewer, in: database).first)
            #expect(renewal.status == "canceled", "an expired subscription's renewal can no longer be paid")
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE done_at IS NULL AND kind <> 'renewal'") == 0)
            #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE operation = '/payments/tokens/charge'") == 3)
        }
    }

    @Test("a hard decline is not retried; a new card paid during past due makes the subscription active from the old end, and the next renewal charges the new card")
    func hardDeclineThenNewCard() async throws {
        try await onItsOwnClock { stack, clock, database in
            // "Expired card" (5054) on renewals: no retry renews it.
            let (viewer, _) = try await stack.purchase(card: Self.unlistedCard, holder: "TOKEN DECLINE 5054")
            let worker = stack.worker("worker-a")
            let paid = try await subscription(of: viewer, in: database)

            advance(clock, to: pastCharge(of: paid.end))
            try await runDue(worker, settling: viewer, in: database)
            let renewal = try #require(try await renewals(of: viewer, in: database).first)
            #expect(renewal.failure == 5054)
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'dunning_retry'") == 0, "a hard decline is not retried")

            advance(clock, to: paid.end.addingTimeInterval(3600))
            try await runDue(worker, settling: viewer, in: database)
            #expect(try await subscription(of: viewer, in: database).status == "past_due")

            // The viewer pays the renewal with another card in the widget, saving it.
            let charge = try await stack.sandboxAPI("/payments/cards/charge", [
                "Amount": "299.00", "Currency": "RUB", "InvoiceId": renewal.id.lowercased, "AccountId": viewer.account,
                "Description": "Movix Premium", "CardCryptogramPacket": sandboxCryptogram("4000000000003055"), "SaveCard": true,
            ])
            #expect(charge.status == 200)
            let settled = try await stack.settledInvoice(renewal.id.lowercased, viewer: viewer)
            #expect(settled["status"] as? String == "paid")
            let active = try await subscription(of: viewer, in: database)
            #expect(active.status == "active")
            #expect(closeEnough(active.start, paid.start))
            #expect(closeEnough(active.end, months(2, after: paid.start)), "renewed from the old end, not from the late payment")
            #expect(active.graceUntil == nil)

            advance(clock, to: pastCharge(of: active.end))
            try await runDue(worker, settling: viewer, in: database)
            let next = try #require(try await renewals(of: viewer, in: database).last)
            #expect(next.status == "paid", "the next renewal charges the new card")
            #expect(try await subscription(of: viewer, in: database).status == "active")
        }
    }

    @Test("changing the card: a 1-ruble card check paid with the new card saves it as the default and is refunded; the next renewal charges the new card")
    func changingTheCard() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, _) = try await stack.purchase(card: "4000000000003055")
            let auth = [("Authorization", "Bearer \(viewer.token)")]
            let started = try await stack.post(stack.billingURL + "/v1/subscription/card", json: [:], headers: auth)
            #expect(started.status == 201)
            let invoiceID = try #require(started.json["invoice_id"] as? String)
            #expect((started.json["amount"] as? [String: Any])?["amount"] as? Int == 100, "one ruble")
            let again = try await stack.post(stack.billingURL + "/v1/subscription/card", json: [:], headers: auth)
            #expect(again.status == 200)
            #expect(again.json["invoice_id"] as? String == invoiceID, "the open card check, not a second one")

            #expect(try await payCardCheck(invoiceID, for: viewer, card: "5205000000003055", on: stack).status == 200)
            let paid = try await stack.settledInvoice(invoiceID, viewer: viewer)
            #expect(paid["status"] as? String == "paid")
            #expect(paid["kind"] as? String == "card_check")
            #expect(try await eventually {
                try await database.count("SELECT count(*)::int FROM refunds WHERE invoice_id = \(UUID(uuidString: invoiceID)!) AND status = 'refunded' AND reason = 'card_check' AND amount = 100") == 1
            }, "the ruble goes back")
            #expect(try await database.count("""
                SELECT count(*)::int FROM customers c JOIN payment_methods m ON m.id = c.default_payment_method_id
                WHERE c.user_id = \(viewer.id) AND m.card_first_six = '520500'
                """) == 1, "the new card is the default")
            let row = try await subscription(of: viewer, in: database)
            #expect(row.status == "active")

            advance(clock, to: pastCharge(of: row.end))
            try await runDue(stack.worker("worker-a"), settling: viewer, in: database)
            let renewal = try #require(try await renewals(of: viewer, in: database).first)
            #expect(renewal.status == "paid")
            #expect(try await database.count("""
                SELECT count(*)::int FROM invoices i JOIN payment_methods m ON m.id = i.payment_method_id
                WHERE i.id = \(renewal.id) AND m.card_first_six = '520500'
                """) == 1, "the renewal charged the new card")
        }
    }

    @Test("a card check left open does not hold up the renewal: it is closed and the renewal charged")
    func openCardCheckGivesWay() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, _) = try await stack.purchase()
            let started = try await stack.post(stack.billingURL + "/v1/subscription/card", json: [:], headers: [("Authorization", "Bearer \(viewer.token)")])
            let cardCheck = try #require(started.json["invoice_id"] as? String)
            let end = try await subscription(of: viewer, in: database).end
            advance(clock, to: pastCharge(of: end))
            try await runDue(stack.worker("worker-a"), settling: viewer, in: database)
            #expect(try await renewals(of: viewer, in: database).first?.status == "paid")
            #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE id = \(UUID(uuidString: cardCheck)!) AND status = 'canceled'") == 1)
        }
    }

    @Test("cancelling after a declined renewal closes it; resuming renews the period again with a new invoice")
    func cancelThenResumeRenewsAgain() async throws {
        try await onItsOwnClock(refundPolicy: .none) { stack, clock, database in
            let (viewer, _) = try await stack.purchase(card: Self.unlistedCard, holder: "TOKEN DECLINE 5051")
            let auth = [("Authorization", "Bearer \(viewer.token)")]
            let worker = stack.worker("worker-a")
            let end = try await subscription(of: viewer, in: database).end
            advance(clock, to: pastCharge(of: end))
            try await runDue(worker, settling: viewer, in: database)
            let declined = try #require(try await renewals(of: viewer, in: database).first)
            #expect(declined.failure == 5051)

            let cancelled = try await stack.post(stack.billingURL + "/v1/subscription/cancel", json: ["confirm": true], headers: auth)
            #expect(cancelled.status == 200)
            #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE id = \(declined.id) AND status = 'canceled'") == 1, "the unpaid renewal is closed")
            try await runDue(worker, settling: viewer, in: database)
            #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE invoice_id = \(declined.id)") == 1, "no retry for a cancelled subscription")

            let resumed = try await stack.post(stack.billingURL + "/v1/subscription/resume", json: [:], headers: auth)
            #expect(resumed.status == 200)
            // When the first charge's answer missed our timeout (a loaded machine), its job waits
            // a minute before it looks again; a minute later it renews either way.
            advance(clock, to: clock.now().addingTimeInterval(61))
            try await runDue(worker, settling: viewer, in: database)
            let issued = try await renewals(of: viewer, in: database)
            #expect(issued.count == 2, "a new renewal for the period: the canceled one does not count")
            #expect(issued.filter { $0.status != "canceled" }.count == 1)
            #expect(try await subscription(of: viewer, in: database).autoRenew)
        }
    }

    @Test("the renewal's payment page refuses a saved-card charge while the worker's charge of it is in flight (409), so it is charged once")
    func savedCardWhileRenewalPending() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, _) = try await stack.purchase()
            let end = try await subscription(of: viewer, in: database).end
            try await stack.setFaults(["chargeTimeoutMs": 3000, "dropNotifications": 100])
            advance(clock, to: pastCharge(of: end))
            try await stack.worker("worker-a").drain()
            let pending = try #require(try await renewals(of: viewer, in: database).first)
            #expect(pending.status == "pending")
            let method = try #require(try await database.client.query(
                "SELECT id FROM payment_methods WHERE user_id = \(viewer.id)", logger: testLogger
            ).decode(UUID.self).first { _ in true })
            await #expect(throws: BillingError.paymentInProgress(invoiceID: pending.id)) {
                try await SavedCardPayment(services: stack.services).pay(invoiceID: pending.id, paymentMethodID: method)
            }
            try await stack.setFaults([:])
            advance(clock, to: clock.now().addingTimeInterval(61))
            try await runDue(stack.worker("worker-a"), settling: viewer, in: database)
            #expect(try await renewals(of: viewer, in: database).first?.status == "paid")
            #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE invoice_id = \(pending.id)") == 1)
        }
    }

    @Test("auto-renew turned off while past due closes the declined renewal and ends access: no retries, no grace")
    func autoRenewOffWhilePastDue() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, _) = try await stack.purchase(card: Self.unlistedCard, holder: "TOKEN DECLINE 5051")
            let worker = stack.worker("worker-a")
            let end = try await subscription(of: viewer, in: database).end
            advance(clock, to: pastCharge(of: end))
            try await runDue(worker, settling: viewer, in: database)
            advance(clock, to: end.addingTimeInterval(30))
            try await runDue(worker, settling: viewer, in: database)
            #expect(try await subscription(of: viewer, in: database).status == "past_due")
            let off = try await stack.put(stack.billingURL + "/v1/subscription/auto-renew", json: ["enabled": false], headers: [("Authorization", "Bearer \(viewer.token)")])
            #expect(off.status == 200)
            #expect(try await subscription(of: viewer, in: database).status == "expired")
            #expect(try await stack.entitled(viewer) == false)
            let renewal = try #require(try await renewals(of: viewer, in: database).first)
            #expect(renewal.status == "canceled")
            advance(clock, to: end.addingTimeInterval(3 * 86_400))
            try await runDue(worker, settling: viewer, in: database)
            #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE invoice_id = \(renewal.id)") == 1, "no retry after renewal was turned off")
        }
    }

    @Test("cancelled while its renewal is being charged: the money goes back and the renewal is closed; resumed, the period is renewed again, once")
    func cancelWhileRenewalInFlight() async throws {
        try await onItsOwnClock(refundPolicy: .none) { stack, clock, database in
            let (viewer, _) = try await stack.purchase()
            let auth = [("Authorization", "Bearer \(viewer.token)")]
            let worker = stack.worker("worker-a")
            let end = try await subscription(of: viewer, in: database).end
            try await stack.setFaults(["apiLatencyMs": 1500])
            advance(clock, to: pastCharge(of: end))
            async let charging: Void = worker.drain()
            #expect(try await eventually { try await renewals(of: viewer, in: database).first?.status == "pending" })
            let cancelled = try await stack.post(stack.billingURL + "/v1/subscription/cancel", json: ["confirm": true], headers: auth)
            #expect(cancelled.status == 200)
            try await charging
            try await stack.setFaults([:])
            // The charge's answer or its Pay notification settles the renewal. On a loaded machine
            // both can miss (the answer our timeout, the notification the sandbox's three quick
            // tries): then the job, run again a minute later, asks the acquirer, as designed.
            if try await !eventually({ try await renewals(of: viewer, in: database).first?.status != "pending" }) {
                advance(clock, to: clock.now().addingTimeInterval(61))
                try await runDue(worker, settling: viewer, in: database)
            }
            let first = try #require(try await renewals(of: viewer, in: database).first)
            #expect(first.status == "canceled", "a renewal of a cancelled subscription is closed, not left payable")
            #expect(try await eventually {
                try await database.count("SELECT count(*)::int FROM refunds WHERE invoice_id = \(first.id) AND status = 'refunded'") == 1
            }, "the money taken for it goes back")

            let resumed = try await stack.post(stack.billingURL + "/v1/subscription/resume", json: [:], headers: auth)
            #expect(resumed.status == 200)
            // On a loaded machine the first charge's answer can miss our 2 s timeout: its job
            // then looks again a minute later, and renews then.
            advance(clock, to: clock.now().addingTimeInterval(61))
            try await runDue(worker, settling: viewer, in: database)
            let issued = try await renewals(of: viewer, in: database)
            #expect(issued.map(\.status) == ["canceled", "paid"])
            #expect(closeEnough(try await subscription(of: viewer, in: database).end, try #require(issued.last).end))
        }
    }

    @Test("cancelled while its renewal is charged, the charge's answer and notifications lost: the job asks the acquirer, gives the money back and closes the renewal")
    func cancelWhileRenewalChargeLost() async throws {
        try await onItsOwnClock(refundPolicy: .none) { stack, clock, database in
            let (viewer, _) = try await stack.purchase()
            let worker = stack.worker("worker-a")
            let end = try await subscription(of: viewer, in: database).end
            // The sandbox charges the card but answers after our timeout, and every notification is lost.
            try await stack.setFaults(["chargeTimeoutMs": 4000, "dropNotifications": 10])
            advance(clock, to: pastCharge(of: end))
            async let charging: Void = worker.drain()
            #expect(try await eventually { try await renewals(of: viewer, in: database).first?.status == "pending" })
            let cancelled = try await stack.post(stack.billingURL + "/v1/subscription/cancel", json: ["confirm": true], headers: [("Authorization", "Bearer \(viewer.token)")])
            #expect(cancelled.status == 200)
            try await charging
            #expect(try await renewals(of: viewer, in: database).first?.status == "pending", "nothing told us what became of the charge")

            advance(clock, to: clock.now().addingTimeInterval(61))
            try await runDue(worker, settling: viewer, in: database)
            let renewal = try #require(try await renewals(of: viewer, in: database).first)
            #expect(renewal.status == "canceled", "a renewal of a cancelled subscription is closed, not left payable")
            #expect(try await eventually {
                try await database.count("SELECT count(*)::int FROM refunds WHERE invoice_id = \(renewal.id) AND status = 'refunded'") == 1
            }, "the money taken for it goes back")
            #expect(try await subscription(of: viewer, in: database).status == "canceled")
            try await stack.setFaults([:])
        }
    }

    @Test("a card check whose refund the acquirer refused is refunded by reconciliation later")
    func cardCheckRefundRetried() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (viewer, _) = try await stack.purchase()
                let started = try await stack.post(stack.billingURL + "/v1/subscription/card", json: [:], headers: [("Authorization", "Bearer \(viewer.token)")])
                let invoiceID = try #require(started.json["invoice_id"] as? String)
                try await stack.setFaults(["refundDecline": true])
                #expect(try await payCardCheck(invoiceID, for: viewer, card: "5205000000003055", on: stack).status == 200)
                #expect(try await stack.settledInvoice(invoiceID, viewer: viewer)["status"] as? String == "paid")
                #expect(try await eventually {
                    try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'card_check' AND status = 'failed'") == 1
                })
                #expect(try await Audit(database: database).run().contains { $0.rule == "unmatched_money_is_refunded" }, "the ruble kept is a breach until it is back")
                try await stack.setFaults([:])
                let summary = await stack.reconcile(refundRetryAfter: 0)
                #expect(summary.refundsRetried == 1)
                #expect(try await database.count("SELECT count(*)::int FROM refunds WHERE reason = 'card_check' AND status = 'refunded' AND amount = 100") == 1)
            }
        }
    }

    @Test("a renewal charge whose answer times out stays pending, is settled by asking the acquirer, and is charged once")
    func timedOutCharge() async throws {
        try await onItsOwnClock { stack, clock, database in
            let (viewer, _) = try await stack.purchase()
            let worker = stack.worker("worker-a")
            let end = try await subscription(of: viewer, in: database).end
            // The charge is made, but its answer comes after our 2 s timeout and its
            // notification never arrives.
            try await stack.setFaults(["chargeTimeoutMs": 3000, "dropNotifications": 100])
            advance(clock, to: pastCharge(of: end))
            try await worker.drain()
            let pending = try #require(try await renewals(of: viewer, in: database).first)
            #expect(pending.status == "pending")
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'renewal' AND done_at IS NULL AND run_at > \(clock.now())") >= 1, "the job waits to ask")

            try await stack.setFaults([:])
            advance(clock, to: clock.now().addingTimeInterval(61))
            try await runDue(worker, settling: viewer, in: database)
            let settled = try #require(try await renewals(of: viewer, in: database).first)
            #expect(settled.status == "paid")
            #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE operation = '/payments/tokens/charge'") == 1, "never charged twice")
            #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE invoice_id = \(settled.id)") == 1)
            #expect(try await database.count("SELECT count(*)::int FROM refunds") == 0)
            #expect(closeEnough(try await subscription(of: viewer, in: database).end, settled.end))
        }
    }

    @Test("two workers racing over 1,000 due renewals charge each exactly once")
    func racingWorkers() async throws {
        try await onItsOwnClock { stack, clock, database in
            let viewers = try await withThrowingTaskGroup(of: [Viewer].self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        var bought: [Viewer] = []
                        for _ in 0..<50 { bought.append(try await stack.purchase().0) }
                        return bought
                    }
                }
                return try await group.reduce(into: [Viewer]()) { $0 += $1 }
            }
            #expect(viewers.count == 1000)
            advance(clock, to: clock.now().addingTimeInterval(32 * 86_400))

            let claimed = try await withThrowingTaskGroup(of: Int.self) { group in
                for name in ["worker-a", "worker-b"] {
                    group.addTask {
                        let worker = stack.worker(name)
                        var total = 0
                        while case let batch = try await worker.runDue(), batch > 0 { total += batch }
                        return total
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(claimed.allSatisfy { $0 > 0 }, "both workers took part: \(claimed)")
            // On a loaded machine a charge's answer can miss our 2 s timeout (that renewal waits a
            // minute, then asks the acquirer), and a job can fail for want of a connection (it
            // runs again 30 s later): a minute or two later, everything is settled.
            for _ in 0..<3 {
                let unsettled = try await database.count("""
                    SELECT (SELECT count(*) FROM invoices WHERE kind = 'renewal' AND status = 'pending')
                         + (SELECT count(*) FROM jobs WHERE kind = 'renewal' AND done_at IS NULL AND run_at <= \(clock.now()))::int
                    """)
                guard unsettled > 0 else { break }
                advance(clock, to: clock.now().addingTimeInterval(61))
                try await stack.worker("worker-a").drain()
            }
            #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE kind = 'renewal' AND status = 'paid'") == 1000)
            #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE kind = 'renewal'") == 1000)
            #expect(try await database.count("SELECT count(DISTINCT invoice_id)::int FROM acquiring_log WHERE operation = '/payments/tokens/charge'") == 1000)
            // Every transaction the acquirer made for an invoice becomes an attempt (by its
            // answer, notification or reconciliation); a second charge would be a second
            // attempt, refunded as a duplicate.
            #expect(try await database.count("""
                SELECT count(*)::int FROM payment_attempts a JOIN invoices i ON i.id = a.invoice_id WHERE i.kind = 'renewal'
                """) == 1000, "one charge each")
            #expect(try await database.count("SELECT count(*)::int FROM refunds") == 0, "no money taken twice")
        }
    }
}
