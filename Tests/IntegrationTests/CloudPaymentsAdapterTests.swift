import Acquiring
import AsyncHTTPClient
import BillingCore
import Foundation
import Storage
import Testing

@Suite("CloudPayments adapter against the sandbox acquirer over HTTP")
struct CloudPaymentsAdapterTests {
    func acquirer(_ stack: LiveStack) -> CloudPaymentsAcquirer {
        CloudPaymentsAcquirer(
            configuration: TestServer.configuration(acquirerURL: stack.sandboxURL).cloudPayments,
            httpClient: .shared, log: PostgresAcquiringLog(database: stack.database)
        )
    }

    @Test("a card payment runs Check and Pay through our webhooks and saves the card")
    func cardPayment() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await stack.purchase(card: "4000000000003055")
                #expect(invoice["status"] as? String == "paid")
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE operation = 'check' AND code = '0'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE operation = 'pay'") >= 1)
                #expect(try await database.count("SELECT count(*)::int FROM payment_methods WHERE card_first_six = '400000' AND card_last_four = '3055' AND exp_month = 12 AND exp_year = 2030") == 1)
                // Tokens never reach the log.
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE payload LIKE '%sbx_tok_%'") == 0)
            }
        }
    }

    @Test("a declined card leaves the invoice payable with the reason code and message")
    func declinedPayment() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (_, invoice) = try await stack.purchase(card: "4000056655665556")
                #expect(invoice["status"] as? String == "created")
                let failure = try #require(invoice["failure"] as? [String: Any])
                #expect(failure["code"] as? Int == 5051)
                #expect((failure["message"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test("find, refund and saved-card charges go through the adapter and are logged")
    func adapterCalls() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                let (viewer, invoice) = try await stack.purchase(card: "4000000000003055")
                let invoiceID = try #require(UUID(uuidString: invoice["id"] as! String))
                let acquirer = acquirer(stack)

                let found = try #require(try await acquirer.findPayment(invoiceID: invoiceID))
                #expect(found.succeeded)
                #expect(found.amount == .rub(29900))

                let refund = try await acquirer.refund(transactionID: found.transactionID, amount: .rub(10000), idempotencyKey: "refund-\(invoiceID)")
                guard case .succeeded = refund else { Issue.record("refund: \(refund)"); return }
                let overRefund = try await acquirer.refund(transactionID: found.transactionID, amount: .rub(29900), idempotencyKey: "refund-2-\(invoiceID)")
                guard case .rejected = overRefund else { Issue.record("over-refund should be rejected: \(overRefund)"); return }

                // A charge for an invoice we never issued is refused by our own Check (code 10 -> 3001).
                let token = try #require(try await database.read { connection -> String? in
                    let methods = PaymentMethodRepository()
                    guard let card = try await methods.cards(userID: viewer.id, on: connection).first else { return nil }
                    return try await methods.token(methodID: card.id, userID: viewer.id, on: connection)
                })
                let stray = try await acquirer.chargeSavedCard(SavedCardCharge(
                    invoiceID: UUID(), userID: viewer.id, amount: .rub(29900), token: token, description: "stray",
                    email: nil, initiatedByCardholder: false, idempotencyKey: UUID().uuidString
                ))
                guard case .declined(let payment) = stray else { Issue.record("stray charge should be declined: \(stray)"); return }
                #expect(payment.decline?.code == 3001)

                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE direction = 'request' AND operation IN ('/v2/payments/find', '/payments/refund', '/payments/tokens/charge')") == 4)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE payload LIKE '%\(token)%'") == 0)
            }
        }
    }

    @Test("a saved card pays a new invoice from the payment page; a card that fails by token is declined")
    func savedCardPayments() async throws {
        try await withTestDatabase { database in
            try await LiveStack.run(database: database) { stack in
                for (card, expected) in [("4000000000003055", "paid"), ("4111111111111111", "created")] {
                    let (viewer, first) = try await stack.purchase(card: card)
                    #expect(first["status"] as? String == "paid")
                    // The first period is over: the viewer comes back to buy again.
                    try await database.client.query("UPDATE subscriptions SET status = 'expired' WHERE user_id = \(viewer.id)", logger: testLogger)
                    let checkout = try await stack.post(stack.billingURL + "/v1/checkout", json: ["plan_id": "premium_3m"], headers: [("Authorization", "Bearer \(viewer.token)")])
                    let invoiceID = try #require(checkout.json["invoice_id"] as? String)
                    let link = try #require(checkout.json["payment_url"] as? String)
                    let token = try #require(pageToken(link))
                    let page = try await stack.get(link.replacingOccurrences(of: "http://billing.test", with: stack.billingURL) + "&lang=en")
                    #expect(page.body.contains("Saved card"))
                    let card = try #require(try await database.read { try await PaymentMethodRepository().cards(userID: viewer.id, on: $0) }.first)
                    #expect(page.body.contains(card.id.uuidString.lowercased()))

                    let body = ["payment_method_id": card.id.uuidString.lowercased()]
                    let refused = try await stack.post(stack.billingURL + "/pay/\(invoiceID)/saved-card", json: body)
                    #expect(refused.status == 403, "without the page token nobody may charge the saved card")
                    let charged = try await stack.post(stack.billingURL + "/pay/\(invoiceID)/saved-card", json: body, headers: [("X-Page-Token", token)])
                    #expect(charged.status == 200)
                    let settled = try await stack.settledInvoice(invoiceID, viewer: viewer)
                    #expect(settled["status"] as? String == expected, "\(card)")
                    if expected == "created" { #expect((settled["failure"] as? [String: Any])?["code"] as? Int == 5051) }
                }
            }
        }
    }
}
