import Foundation
import Testing

@Suite("Payment flows")
struct PaymentFlowTests {
    @Test("4242… asks for 3-D Secure; confirming at the ACS and calling post3ds completes the payment")
    func threeDSConfirm() async throws {
        try await SandboxHarness.run { sandbox in
            let challenge = try await sandbox.api("/payments/cards/charge", [
                "Amount": 299, "CardCryptogramPacket": TestCard.cryptogram("4242 4242 4242 4242"),
            ]).envelope
            #expect(!challenge.success)
            let model = try #require(challenge.model)
            let transactionID = try #require(model.transactionId)
            let acsURL = try #require(model.acsUrl)
            #expect(acsURL == "\(sandbox.baseURL.replacingOccurrences(of: "localhost", with: "127.0.0.1"))/acs/\(transactionID)")
            #expect(model.paReq != nil)

            let page = try await sandbox.send(acsURL, method: .GET, credentials: .none)
            #expect(page.body.contains("3-D Secure (sandbox)"))
            #expect(page.body.contains("id=\"acs-confirm\""))
            #expect(page.body.contains("id=\"acs-reject\""))

            let paRes = try await authenticate(sandbox, acsURL: acsURL, decision: "confirm")
            let completed = try await sandbox.api("/payments/cards/post3ds", ["TransactionId": transactionID, "PaRes": paRes]).envelope
            #expect(completed.success)
            #expect(completed.model?.status == "Completed")
            let pay = try await sandbox.recorder.waitFor("pay")
            #expect(pay.first?.fields["TransactionId"] == String(transactionID))

            let replay = try await sandbox.api("/payments/cards/post3ds", ["TransactionId": transactionID, "PaRes": paRes]).envelope
            #expect(!replay.success)
        }
    }

    @Test("rejecting at the ACS declines with 5206; 4012… declines with 5051 after 3-D Secure")
    func threeDSDeclines() async throws {
        try await SandboxHarness.run { sandbox in
            for (card, decision, reasonCode) in [("4242424242424242", "reject", 5206), ("4012888888881881", "confirm", 5051)] {
                let challenge = try await sandbox.api("/payments/cards/charge", [
                    "Amount": 5, "CardCryptogramPacket": TestCard.cryptogram(card),
                ]).envelope
                let model = try #require(challenge.model)
                let paRes = try await authenticate(sandbox, acsURL: try #require(model.acsUrl), decision: decision)
                let result = try await sandbox.api("/payments/cards/post3ds", ["TransactionId": model.transactionId!, "PaRes": paRes]).envelope
                #expect(!result.success)
                #expect(result.model?.reasonCode == reasonCode)
            }
        }
    }

    @Test("a token from a 4111… payment is declined 5051 on a renewal")
    func tokenRenewalDeclined() async throws {
        try await SandboxHarness.run { sandbox in
            let first = try await sandbox.api("/payments/cards/charge", [
                "Amount": 299, "AccountId": "user-7", "SaveCard": true, "CardCryptogramPacket": TestCard.cryptogram("4111111111111111"),
            ]).envelope
            #expect(first.success)
            let token = try #require(first.model?.token)
            let pay = try await sandbox.recorder.waitFor("pay")
            #expect(pay.first?.fields["Token"] == token)

            let missingInitiator = try await sandbox.api("/payments/tokens/charge", ["Amount": 299, "AccountId": "user-7", "Token": token])
            #expect(try missingInitiator.envelope.message == "TrInitiatorCode is required")

            let renewal = try await sandbox.api("/payments/tokens/charge", [
                "Amount": 299, "AccountId": "user-7", "Token": token, "TrInitiatorCode": 0, "PaymentScheduled": 1,
            ]).envelope
            #expect(!renewal.success)
            #expect(renewal.model?.reasonCode == 5051)
            let fail = try await sandbox.recorder.waitFor("fail")
            #expect(fail.first?.fields["Token"] == token)
            #expect(fail.first?.fields["ReasonCode"] == "5051")

            let list = try await sandbox.api("/payments/tokens/list", [:])
            #expect(list.body.contains("\"Token\":\"\(token)\",\"AccountId\":\"user-7\",\"CardMask\":\"411111******1111\""))
        }
    }

    @Test("refunds: partial allowed, never more than what was paid")
    func refunds() async throws {
        try await SandboxHarness.run { sandbox in
            let payment = try await sandbox.api("/payments/cards/charge", [
                "Amount": "299.00", "InvoiceId": "inv-r", "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ]).envelope
            let id = try #require(payment.model?.transactionId)
            let partial = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": "100.00"]).envelope
            #expect(partial.success)
            let refundID = try #require(partial.model?.transactionId)
            #expect(refundID != id)
            let tooMuch = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 250]).envelope
            #expect(!tooMuch.success)
            #expect(tooMuch.message?.isEmpty == false)
            #expect(try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 199]).envelope.success)
            #expect(try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 0.01]).envelope.success == false)

            let refunds = try await sandbox.recorder.waitFor("refund", count: 2)
            let first = try #require(refunds.first { $0.fields["TransactionId"] == String(refundID) })
            #expect(first.fields["PaymentTransactionId"] == String(id))
            #expect(first.fields["Amount"] == "100.00")
            #expect(first.fields["OperationType"] == "Refund")
            #expect(first.fields["InvoiceId"] == "inv-r")
        }
    }

    @Test("two-stage: auth holds, confirm captures (less is fine) and void releases")
    func twoStage() async throws {
        try await SandboxHarness.run { sandbox in
            let cryptogram = TestCard.cryptogram("5200828282828210")
            let held = try await sandbox.api("/payments/cards/auth", ["Amount": 500, "CardCryptogramPacket": cryptogram]).envelope
            #expect(held.model?.status == "Authorized")
            let heldID = try #require(held.model?.transactionId)
            #expect(try await sandbox.api("/payments/confirm", ["TransactionId": heldID, "Amount": 600]).envelope.success == false)
            let confirmed = try await sandbox.api("/payments/confirm", ["TransactionId": heldID, "Amount": 450])
            #expect(try confirmed.envelope.success)
            #expect(confirmed.body == "{\"Success\":true,\"Message\":null}")
            let afterConfirm = try await sandbox.api("/payments/get", ["TransactionId": heldID]).envelope
            #expect(afterConfirm.model?.status == "Completed")
            #expect(afterConfirm.model?.amount == 450)
            _ = try await sandbox.recorder.waitFor("confirm")

            let other = try await sandbox.api("/payments/cards/auth", ["Amount": 500, "CardCryptogramPacket": cryptogram]).envelope
            let otherID = try #require(other.model?.transactionId)
            #expect(try await sandbox.api("/payments/void", ["TransactionId": otherID]).envelope.success)
            #expect(try await sandbox.api("/payments/get", ["TransactionId": otherID]).envelope.model?.status == "Cancelled")
            #expect(try await sandbox.api("/payments/void", ["TransactionId": otherID]).envelope.success == false)
            let cancel = try await sandbox.recorder.waitFor("cancel")
            #expect(cancel.first?.fields["TransactionId"] == String(otherID))
        }
    }

    @Test("a card is kept (token on the Model, in Pay and in the list) only when SaveCard asks, 3-D Secure included")
    func tokensOnlyWhenAsked() async throws {
        try await SandboxHarness.run { sandbox in
            let unasked = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "AccountId": "user-t", "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ])
            #expect(try unasked.envelope.success)
            #expect(unasked.body.contains("\"Token\":null"))
            let unaskedPay = try #require(try await sandbox.recorder.waitFor("pay").first)
            #expect(unaskedPay.fields["Token"] == "")
            #expect(unaskedPay.body.contains("&Token=&"))
            let refused = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "AccountId": "user-t", "SaveCard": false, "CardCryptogramPacket": TestCard.cryptogram("5200828282828210"),
            ]).envelope
            #expect(refused.success)
            #expect(refused.model?.token == nil)

            // SaveCard as JSON true on charge, as form text on auth.
            let saved = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "AccountId": "user-t", "SaveCard": true, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ]).envelope
            let token = try #require(saved.model?.token)
            let held = try await sandbox.send("/payments/cards/auth", body: FormBody.encode([
                ("Amount", "10"), ("AccountId", "user-h"), ("SaveCard", "true"), ("CardCryptogramPacket", TestCard.cryptogram("5205000000003055")),
            ]), contentType: "application/x-www-form-urlencoded").envelope
            #expect(held.model?.status == "Authorized")
            let heldToken = try #require(held.model?.token)

            // Through 3-D Secure: the choice made at the charge holds after post3ds.
            var threeDSTokens: [String?] = []
            for saveCard in [false, true] {
                let challenge = try await sandbox.api("/payments/cards/charge", [
                    "Amount": 10, "AccountId": "user-3ds", "SaveCard": saveCard, "CardCryptogramPacket": TestCard.cryptogram("2200000000000004"),
                ]).envelope
                let model = try #require(challenge.model)
                let paRes = try await authenticate(sandbox, acsURL: try #require(model.acsUrl), decision: "confirm")
                let completed = try await sandbox.api("/payments/cards/post3ds", ["TransactionId": model.transactionId!, "PaRes": paRes]).envelope
                #expect(completed.success)
                threeDSTokens.append(completed.model?.token)
            }
            #expect(threeDSTokens[0] == nil)
            let threeDSToken = try #require(threeDSTokens[1])

            let list = try await sandbox.api("/payments/tokens/list", [:]).body
            #expect(list.components(separatedBy: "\"Token\":").count - 1 == 3)
            for kept in [token, heldToken, threeDSToken] { #expect(list.contains(kept)) }
            #expect(!list.contains("\"AccountId\":\"user-t\",\"CardMask\":\"520082"))

            // Token payments keep working as before.
            let renewal = try await sandbox.api("/payments/tokens/charge", [
                "Amount": 10, "AccountId": "user-t", "Token": token, "TrInitiatorCode": 0,
            ]).envelope
            #expect(renewal.success)
            #expect(renewal.model?.token == token)
        }
    }

    /// Plays the cardholder at the ACS page through its form POST, asking for JSON as a script would.
    private func authenticate(_ sandbox: SandboxHarness, acsURL: String, decision: String) async throws -> String {
        let answer = try await sandbox.send(
            acsURL, body: "decision=\(decision)", contentType: "application/x-www-form-urlencoded",
            credentials: .none, headers: [("Accept", "application/json")]
        )
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: String]
        return try #require(json?["PaRes"])
    }
}
