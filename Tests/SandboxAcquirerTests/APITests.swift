import Foundation
import Testing

@Suite("CloudPayments API")
struct APITests {
    @Test("wrong or missing credentials get HTTP 401; the right ones pass /test")
    func authentication() async throws {
        try await SandboxHarness.run { sandbox in
            #expect(try await sandbox.api("/test", [:], credentials: .none).status == 401)
            #expect(try await sandbox.api("/test", [:], credentials: .wrongSecret).status == 401)
            let ok = try await sandbox.api("/test", [:])
            #expect(ok.status == 200)
            #expect(try ok.envelope.success)
            #expect(try UUID(uuidString: ok.envelope.message ?? "") != nil)
        }
    }

    @Test("a charge with 4000 0000 0000 3055 and SaveCard completes, keeps the amount exact and leaves a token")
    func frictionlessCharge() async throws {
        try await SandboxHarness.run { sandbox in
            let response = try await sandbox.api("/payments/cards/charge", [
                "Amount": 299.0, "Currency": "RUB", "InvoiceId": "inv-1", "AccountId": "user-1", "SaveCard": true,
                "CardCryptogramPacket": TestCard.cryptogram("4000 0000 0000 3055"), "JsonData": ["plan": "monthly"],
            ])
            let envelope = try response.envelope
            #expect(envelope.success)
            #expect(envelope.message == nil)
            #expect(response.body.contains("\"Amount\":299.00"))
            #expect(response.body.contains("\"JsonData\":\"{\\\"plan\\\":\\\"monthly\\\"}\""))
            #expect(envelope.model?.status == "Completed")
            #expect(envelope.model?.statusCode == 3)
            #expect(envelope.model?.reasonCode == 0)
            #expect(envelope.model?.cardFirstSix == "400000")
            #expect(envelope.model?.cardLastFour == "3055")
            #expect(envelope.model?.testMode == true)
            #expect(envelope.model?.token?.hasPrefix("sbx_tok_") == true)
            #expect(!response.body.contains("4000000000003055"))
        }
    }

    @Test("4000 0566 5566 5556 is declined for insufficient funds")
    func insufficientFunds() async throws {
        try await SandboxHarness.run { sandbox in
            let envelope = try await sandbox.api("/payments/cards/charge", [
                "Amount": "299.00", "CardCryptogramPacket": TestCard.cryptogram("4000056655665556"),
            ]).envelope
            #expect(!envelope.success)
            #expect(envelope.message == nil)
            #expect(envelope.model?.status == "Declined")
            #expect(envelope.model?.statusCode == 5)
            #expect(envelope.model?.reasonCode == 5051)
            #expect(envelope.model?.reason == "InsufficientFunds")
            #expect(envelope.model?.cardHolderMessage == "Недостаточно средств на карте")
        }
    }

    @Test("an unknown Luhn-invalid number is declined 5014 and an expired card 5054")
    func cardChecks() async throws {
        try await SandboxHarness.run { sandbox in
            let invalid = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000000001"),
            ]).envelope
            #expect(invalid.model?.reasonCode == 5014)
            let expired = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055", expiry: "01/20"),
            ]).envelope
            #expect(expired.model?.reasonCode == 5054)
        }
    }

    @Test("the holder name picks any decline code, at once or on renewals only")
    func declineByHolderName() async throws {
        try await SandboxHarness.run { sandbox in
            let atOnce = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000000002", name: "DECLINE 5005"),
            ]).envelope
            #expect(atOnce.model?.reasonCode == 5005)
            #expect(atOnce.model?.reason == "DoNotHonor")

            let first = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "AccountId": "user-9", "SaveCard": true,
                "CardCryptogramPacket": TestCard.cryptogram("4000000000000002", name: "TOKEN DECLINE 5057"),
            ]).envelope
            #expect(first.success)
            let renewal = try await sandbox.api("/payments/tokens/charge", [
                "Amount": 10, "AccountId": "user-9", "Token": try #require(first.model?.token), "TrInitiatorCode": 0,
            ]).envelope
            #expect(renewal.model?.reasonCode == 5057)
        }
    }

    @Test("malformed requests answer Success:false with a message")
    func validation() async throws {
        try await SandboxHarness.run { sandbox in
            let cryptogram = TestCard.cryptogram("4000000000003055")
            let noAmount = try await sandbox.api("/payments/cards/charge", ["CardCryptogramPacket": cryptogram])
            #expect(noAmount.status == 200)
            #expect(try noAmount.envelope.message == "Amount is required")
            let tooPrecise = try await sandbox.api("/payments/cards/charge", ["Amount": "1.005", "CardCryptogramPacket": cryptogram])
            #expect(try tooPrecise.envelope.success == false)
            let badPacket = try await sandbox.api("/payments/cards/charge", ["Amount": 1, "CardCryptogramPacket": "garbage"])
            #expect(try badPacket.envelope.message == "Invalid CardCryptogramPacket")
            let missing = try await sandbox.api("/payments/get", ["TransactionId": 42])
            #expect(try missing.envelope.message == "Not found")
        }
    }

    @Test("a form-encoded charge works like a JSON one, and find returns the invoice's latest transaction")
    func formEncodedAndFind() async throws {
        try await SandboxHarness.run { sandbox in
            let body = FormBody.encode([
                ("Amount", "150.50"), ("InvoiceId", "inv form"), ("CardCryptogramPacket", TestCard.cryptogram("5205000000003055")),
            ])
            let charged = try await sandbox.send("/payments/cards/charge", body: body, contentType: "application/x-www-form-urlencoded")
            #expect(try charged.envelope.success)
            #expect(charged.body.contains("\"Amount\":150.50"))
            let found = try await sandbox.api("/v2/payments/find", ["InvoiceId": "inv form"]).envelope
            #expect(found.model?.transactionId == (try charged.envelope.model?.transactionId))
            #expect(found.model?.amount == Decimal(string: "150.50"))
        }
    }

    @Test("a repeated X-Request-ID replays the first answer and pays once")
    func idempotentReplay() async throws {
        try await SandboxHarness.run { sandbox in
            let fields: [String: Any] = ["Amount": 100, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055")]
            let first = try await sandbox.api("/payments/cards/charge", fields, headers: [("X-Request-ID", "req-1")])
            let second = try await sandbox.api("/payments/cards/charge", fields, headers: [("X-Request-ID", "req-1")])
            #expect(first.body == second.body)
            _ = try await sandbox.recorder.waitFor("pay")
            try await Task.sleep(for: .milliseconds(300))
            #expect(await sandbox.recorder.all("pay").count == 1)
            #expect(await sandbox.recorder.all("check").count == 1)
            let other = try await sandbox.api("/payments/cards/charge", fields, headers: [("X-Request-ID", "req-2")])
            #expect(try other.envelope.model?.transactionId != first.envelope.model?.transactionId)
        }
    }

    @Test("get and find: a declined payment is Success:false with its Model, an approved one Success:true, unknown Not found")
    func lookups() async throws {
        try await SandboxHarness.run { sandbox in
            let declined = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "InvoiceId": "inv-declined", "CardCryptogramPacket": TestCard.cryptogram("4000056655665556"),
            ]).envelope
            let declinedID = try #require(declined.model?.transactionId)
            for (path, fields) in [("/payments/get", ["TransactionId": declinedID] as [String: Any]), ("/v2/payments/find", ["InvoiceId": "inv-declined"])] {
                let found = try await sandbox.api(path, fields)
                let envelope = try found.envelope
                #expect(!envelope.success, "\(path)")
                #expect(envelope.message == nil, "\(path)")
                #expect(envelope.model?.transactionId == declinedID, "\(path)")
                #expect(envelope.model?.status == "Declined", "\(path)")
                #expect(envelope.model?.reasonCode == 5051, "\(path)")
                #expect(envelope.model?.cardHolderMessage == "Недостаточно средств на карте", "\(path)")
            }

            let approved = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "InvoiceId": "inv-approved", "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ]).envelope
            let approvedID = try #require(approved.model?.transactionId)
            for (path, fields) in [("/payments/get", ["TransactionId": approvedID] as [String: Any]), ("/v2/payments/find", ["InvoiceId": "inv-approved"])] {
                let envelope = try await sandbox.api(path, fields).envelope
                #expect(envelope.success, "\(path)")
                #expect(envelope.model?.transactionId == approvedID, "\(path)")
                #expect(envelope.model?.status == "Completed", "\(path)")
            }

            for (path, fields) in [("/payments/get", ["TransactionId": 1] as [String: Any]), ("/v2/payments/find", ["InvoiceId": "inv-unknown"])] {
                let unknown = try await sandbox.api(path, fields)
                #expect(unknown.body == #"{"Success":false,"Message":"Not found"}"#, "\(path)")
            }
        }
    }

    @Test("numeric fields may be JSON numbers, as the client libraries send them, or text")
    func numbersAndText() async throws {
        try await SandboxHarness.run { sandbox in
            let packet = TestCard.cryptogram("4000000000003055")
            // Written by hand: JSONSerialization would print 299.00 as 299.
            let charged = try await sandbox.send("/payments/cards/charge", body: """
                {"Amount":299.00,"Currency":"RUB","AccountId":"user-n","SaveCard":true,"InvoiceId":42,"CardCryptogramPacket":"\(packet)"}
                """, contentType: "application/json")
            let charge = try charged.envelope
            #expect(charge.success)
            #expect(charged.body.contains("\"Amount\":299.00,"))
            #expect(charged.body.contains("\"InvoiceId\":\"42\""))
            let id = try #require(charge.model?.transactionId)
            let token = try #require(charge.model?.token)

            let renewal = try await sandbox.send("/payments/tokens/charge", body: """
                {"Amount":150.5,"AccountId":"user-n","Token":"\(token)","TrInitiatorCode":0,"PaymentScheduled":1}
                """, contentType: "application/json")
            #expect(try renewal.envelope.success)
            #expect(renewal.body.contains("\"Amount\":150.50,"))
            let asText = try await sandbox.send("/payments/tokens/charge", body: """
                {"Amount":"150.50","AccountId":"user-n","Token":"\(token)","TrInitiatorCode":"1"}
                """, contentType: "application/json")
            #expect(try asText.envelope.success)
            let badInitiator = try await sandbox.send("/payments/tokens/charge", body: """
                {"Amount":1,"AccountId":"user-n","Token":"\(token)","TrInitiatorCode":2}
                """, contentType: "application/json")
            #expect(try badInitiator.envelope.message == "TrInitiatorCode must be 0 or 1")

            let refund = try await sandbox.send("/payments/refund", body: #"{"TransactionId":\#(id),"Amount":10.25}"#, contentType: "application/json")
            #expect(try refund.envelope.success)
            let found = try await sandbox.send("/payments/get", body: #"{"TransactionId":\#(id)}"#, contentType: "application/json")
            #expect(try found.envelope.model?.transactionId == id)
            let notified = try await sandbox.recorder.waitFor("refund")
            #expect(notified.first?.fields["Amount"] == "10.25")
        }
    }
}
