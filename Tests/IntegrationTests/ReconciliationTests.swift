import Foundation
import Testing

@Suite("What is left open is settled by asking the acquirer")
struct ReconciliationTests {
    func checkout(_ stack: LiveStack, _ viewer: Viewer) async throws -> [String: Any] {
        let checkout = try await stack.post(stack.billingURL + "/v1/checkout", json: ["plan_id": "premium_1m"], headers: [("Authorization", "Bearer \(viewer.token)")])
        #expect(checkout.status == 201)
        return checkout.json
    }

    func charge(_ stack: LiveStack, _ checkout: [String: Any], card: String) async throws -> LiveStack.Exchange {
        let widget = try #require(checkout["widget"] as? [String: Any])
        return try await stack.sandboxAPI("/payments/cards/charge", [
            "Amount": widget["amount"]!, "Currency": "RUB", "InvoiceId": widget["invoiceId"]!,
            "AccountId": widget["accountId"]!, "CardCryptogramPacket": sandboxCryptogram(card), "SaveCard": true,
        ])
    }

    @Test("an attempt left at 3-D Secure does not block another card; reconciliation marks it abandoned")
    func abandonedThreeDS() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let viewer = try await Viewer.make()
                let order = try await checkout(stack, viewer)
                let invoiceID = try #require(order["invoice_id"] as? String)
                let challenge = try await charge(stack, order, card: "4242424242424242")
                #expect((challenge.json["Model"] as? [String: Any])?["AcsUrl"] is String)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'pending'") == 1)

                // The viewer closed the 3-D Secure window and opens the payment page again.
                let page = try await stack.get(stack.billingURL + "/pay/\(invoiceID)?lang=en")
                #expect(page.body.contains(#"<form id="pay-form" >"#))
                #expect(page.body.contains(#""payable":true"#))

                _ = try await charge(stack, order, card: "4000000000003055")
                let settled = try await stack.settledInvoice(invoiceID, viewer: viewer)
                #expect(settled["status"] as? String == "paid")

                // The 3-D Secure attempt is still open at the acquirer: too young to give up on, then abandoned.
                #expect(await stack.reconcile().attemptsAbandoned == 0)
                #expect(await stack.reconcile(abandonAfter: 0).attemptsAbandoned == 1)
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'abandoned'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'paid'") == 1)
            }
        }
    }

    @Test("a payment whose notifications never arrived is settled by reconciliation, not by opening the page")
    func lostNotifications() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                try await stack.setFaults(["dropNotifications": 100])

                let viewer = try await Viewer.make()
                let order = try await checkout(stack, viewer)
                let invoiceID = try #require(order["invoice_id"] as? String)
                _ = try await charge(stack, order, card: "4000000000003055")
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'paid'") == 0)

                // Opening the page asks nobody: no acquirer call, no log row.
                let logged = try await database.count("SELECT count(*)::int FROM acquiring_log")
                _ = try await stack.get(stack.billingURL + "/pay/\(invoiceID)?lang=en")
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log") == logged)

                #expect(await stack.reconcile().attemptsSettled == 1)
                let page = try await stack.get(stack.billingURL + "/pay/\(invoiceID)?lang=en")
                #expect(page.body.contains(#"data-status="paid""#))
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE actor = 'reconciliation:cloudpayments' AND to_state = 'paid'") == 1)
                let subscription = try await stack.get(stack.billingURL + "/v1/subscription", headers: [("Authorization", "Bearer \(viewer.token)")])
                #expect((subscription.json["subscription"] as? [String: Any])?["status"] as? String == "active")
            }
        }
    }
}
