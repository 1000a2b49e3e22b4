import Foundation
import Testing

@Suite("Pending invoices are settled by asking the acquirer")
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
            "AccountId": widget["accountId"]!, "CardCryptogramPacket": sandboxCryptogram(card),
        ])
    }

    @Test("an abandoned 3-D Secure attempt leaves the invoice payable again, and the second card pays it")
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
            }
        }
    }

    @Test("a payment whose notifications never arrived is settled when the payment page asks the acquirer")
    func lostNotifications() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let credentials = Data("\(TestServer.publicID):\(TestServer.apiSecret)".utf8).base64EncodedString()
                let faults = try await stack.put(stack.sandboxURL + "/sandbox/faults", json: ["dropNotifications": 100], headers: [("Authorization", "Basic \(credentials)")])
                #expect(faults.status == 200)

                let viewer = try await Viewer.make()
                let order = try await checkout(stack, viewer)
                let invoiceID = try #require(order["invoice_id"] as? String)
                _ = try await charge(stack, order, card: "4000000000003055")
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'paid'") == 0)

                let page = try await stack.get(stack.billingURL + "/pay/\(invoiceID)?lang=en")
                #expect(page.body.contains(#"data-status="paid""#))
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE actor = 'reconciliation:cloudpayments' AND to_state = 'paid'") == 1)
                let subscription = try await stack.get(stack.billingURL + "/v1/subscription", headers: [("Authorization", "Bearer \(viewer.token)")])
                #expect((subscription.json["subscription"] as? [String: Any])?["status"] as? String == "active")
            }
        }
    }
}
