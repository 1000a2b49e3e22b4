import Acquiring
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Storage
import Testing

@Suite("Payment notifications on a real database")
struct NotificationTests {
    /// Checks out for a new viewer and returns (viewer, invoice id).
    @Test("20 concurrent identical Pay notifications: one paid transition, one activation")
    func concurrentDuplicatePays() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let paidAt = Notifications.dateTime(Date())
                let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account, dateTime: paidAt)
                let replies = try await withThrowingTaskGroup(of: String.self) { group in
                    for _ in 0..<20 {
                        group.addTask {
                            let (status, body) = try await Notifications.send("pay", fields, client: client)
                            #expect(status == .ok)
                            return body
                        }
                    }
                    return try await group.reduce(into: [String]()) { $0.append($1) }
                }
                #expect(replies.count == 20)
                #expect(replies.allSatisfy { $0 == #"{"code":0}"# })

                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity = 'invoice' AND to_state = 'paid'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity = 'subscription' AND to_state = 'active'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM outbox_events WHERE type = 'subscription.activated'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE direction = 'notification' AND operation = 'pay'") == 20)
                #expect(try await database.count("SELECT count(*)::int FROM payment_methods") == 1)

                let subscription = try await client.execute(uri: "/v1/subscription", method: .get, headers: viewer.headers)
                let body = try json(subscription.body)["subscription"] as? [String: Any]
                #expect(body?["status"] as? String == "active")
                let period = body?["current_period"] as? [String: String]
                // Access starts when the acquirer says the money was taken (a plausible time).
                let start = try #require(period?["start"])
                #expect(start == paidAt.replacingOccurrences(of: " ", with: "T") + "Z")
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'succeeded'") == 1)
            }
        }
    }

    @Test("Fail of another attempt after Pay changes nothing about the invoice")
    func failAfterPay() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let account = viewer.account
                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: account), client: client)
                let transitionsBefore = try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity <> 'payment_attempt'")

                let (status, reply) = try await Notifications.send("fail", Notifications.failFields(invoiceID: invoiceID, accountID: account), client: client)
                #expect(status == .ok)
                #expect(reply == #"{"code":0}"#)
                #expect(try await database.count("SELECT count(*)::int FROM state_transitions WHERE entity <> 'payment_attempt'") == transitionsBefore)
                #expect(try await database.count("SELECT count(*)::int FROM payment_attempts WHERE status = 'declined'") == 1)

                let invoice = try json(try await client.execute(uri: "/v1/invoices/\(invoiceID)", method: .get, headers: viewer.headers).body)
                #expect(invoice["status"] as? String == "paid")
                #expect(invoice["failure"] is NSNull)
            }
        }
    }

    @Test("a declined attempt leaves the invoice payable with its reason; a later attempt pays it")
    func payAfterFail() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let account = viewer.account
                _ = try await Notifications.send("fail", Notifications.failFields(invoiceID: invoiceID, accountID: account), client: client)
                let failed = try json(try await client.execute(uri: "/v1/invoices/\(invoiceID)", method: .get, headers: viewer.headers).body)
                #expect(failed["status"] as? String == "created")
                #expect((failed["failure"] as? [String: Any])?["code"] as? Int == 5051)
                #expect((failed["failure"] as? [String: Any])?["message"] as? String == "Недостаточно средств на карте")
                // A new attempt's Check is accepted: the decline ended the attempt, not the invoice.
                let (_, check) = try await Notifications.send("check", Notifications.payFields(invoiceID: invoiceID, accountID: account), client: client)
                #expect(check == #"{"code":0}"#)

                _ = try await Notifications.send("pay", Notifications.payFields(invoiceID: invoiceID, accountID: account), client: client)
                let paid = try json(try await client.execute(uri: "/v1/invoices/\(invoiceID)", method: .get, headers: viewer.headers).body)
                #expect(paid["status"] as? String == "paid")
                #expect((paid["attempts"] as? [[String: Any]])?.map { $0["status"] as? String } == ["declined", "succeeded"])
            }
        }
    }

    @Test("Check answers 0 for a matching payment, 12 for a wrong amount, 11 for another account, 10 for an unknown invoice")
    func checkCodes() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let account = viewer.account
                func check(_ fields: [(String, String)]) async throws -> String {
                    let (status, body) = try await Notifications.send("check", fields, client: client)
                    #expect(status == .ok)
                    return body
                }
                #expect(try await check(Notifications.payFields(invoiceID: invoiceID, accountID: account, amount: "298.00")) == #"{"code":12}"#)
                #expect(try await check(Notifications.payFields(invoiceID: invoiceID, accountID: UUID().uuidString)) == #"{"code":11}"#)
                #expect(try await check(Notifications.payFields(invoiceID: UUID().uuidString, accountID: account)) == #"{"code":10}"#)
                #expect(try await check(Notifications.payFields(invoiceID: "not-an-invoice", accountID: account)) == #"{"code":10}"#)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'pending'") == 0)

                #expect(try await check(Notifications.payFields(invoiceID: invoiceID, accountID: account)) == #"{"code":0}"#)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'pending'") == 1)
                #expect(try await database.count("SELECT count(*)::int FROM acquiring_log WHERE operation = 'check'") == 5)
            }
        }
    }

    @Test("a wrong or missing signature gets 401 and writes nothing")
    func badSignature() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account)
                let forged = Notifications.signature(FormEncoding.encode(fields), secret: "not-the-secret")
                let before = try await database.count("SELECT (SELECT count(*) FROM state_transitions) + (SELECT count(*) FROM acquiring_log)")

                for signing in [Notifications.Signing.given(forged), .missing, .given("%%%not base64")] {
                    let (status, body) = try await Notifications.send("pay", fields, client: client, signing: signing)
                    #expect(status == .unauthorized)
                    #expect(body.contains("bad-signature"))
                }
                #expect(try await database.count("SELECT (SELECT count(*) FROM state_transitions) + (SELECT count(*) FROM acquiring_log)") == before)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'created'") == 1)
            }
        }
    }

    @Test("X-Content-HMAC over the URL-decoded body is accepted when Content-HMAC is absent")
    func decodedSignature() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                var fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account)
                fields.append(("Description", "Movix Premium, 1 месяц"))
                let body = FormEncoding.encode(fields)
                let decoded = try #require(body.removingPercentEncoding)
                let response = try await client.execute(
                    uri: "/webhooks/cloudpayments/pay", method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded", .init("X-Content-HMAC")!: Notifications.signature(decoded)],
                    body: ByteBuffer(string: body)
                )
                #expect(response.status == .ok)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'paid'") == 1)
            }
        }
    }

    @Test("JSON notifications are accepted too")
    func jsonNotification() async throws {
        try await withTestDatabase { database in
            try await TestServer.run(database: database) { client in
                let (viewer, invoiceID) = try await openInvoice(client)
                let fields = Notifications.payFields(invoiceID: invoiceID, accountID: viewer.account)
                let body = String(decoding: try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: fields)), as: UTF8.self)
                let response = try await client.execute(
                    uri: "/webhooks/cloudpayments/pay", method: .post,
                    headers: [.contentType: "application/json", .init("Content-HMAC")!: Notifications.signature(body)],
                    body: ByteBuffer(string: body)
                )
                #expect(response.status == .ok)
                #expect(try await database.count("SELECT count(*)::int FROM invoices WHERE status = 'paid'") == 1)
            }
        }
    }
}
