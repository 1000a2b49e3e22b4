import Crypto
import Foundation
import SandboxAcquirer
import Testing

@Suite("Notifications")
struct NotificationTests {
    @Test("Check comes first, then a Pay signed with Content-HMAC and X-Content-HMAC")
    func signedPay() async throws {
        try await SandboxHarness.run { sandbox in
            let charged = try await sandbox.api("/payments/cards/charge", [
                "Amount": 299, "InvoiceId": "inv 42", "AccountId": "user-1", "Email": "a+b@example.com",
                "Description": "Подписка Movix", "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ]).envelope
            let id = try #require(charged.model?.transactionId)

            let check = try #require(await sandbox.recorder.all("check").first)
            #expect(check.fields["TransactionId"] == String(id))
            #expect(check.fields["OperationType"] == "Payment")

            let pay = try #require(try await sandbox.recorder.waitFor("pay").first)
            let fields = pay.fields
            #expect(fields["TransactionId"] == String(id))
            #expect(fields["Amount"] == "299.00")
            #expect(fields["Status"] == "Completed")
            #expect(fields["InvoiceId"] == "inv 42")
            #expect(fields["Email"] == "a+b@example.com")
            #expect(fields["Description"] == "Подписка Movix")
            #expect(fields["TestMode"] == "1")
            #expect(fields["CardFirstSix"] == "400000")
            #expect(fields["Token"] == charged.model?.token)
            #expect(try #require(fields["DateTime"]).wholeMatch(of: /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/) != nil)
            // Spaces are %20, never +, so "+" in the e-mail survives.
            #expect(pay.body.contains("InvoiceId=inv%2042"))
            #expect(pay.body.contains("Email=a%2Bb%40example.com"))

            #expect(pay.contentHMAC == hmac(pay.body))
            let decoded = FormBody.decode(pay.body).map { "\($0.0)=\($0.1)" }.joined(separator: "&")
            #expect(pay.decodedContentHMAC == hmac(decoded))
            #expect(pay.contentHMAC != hmac(pay.body + "x"))
        }
    }

    @Test("Fail carries Reason and ReasonCode, and no CardHolderMessage, as real ones")
    func failNotification() async throws {
        try await SandboxHarness.run { sandbox in
            _ = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("5404000000000043"),
            ])
            let fail = try #require(try await sandbox.recorder.waitFor("fail").first)
            #expect(fail.fields["ReasonCode"] == "5051")
            #expect(fail.fields["Reason"] == "InsufficientFunds")
            #expect(fail.fields["CardHolderMessage"] == nil)
            #expect(!fail.body.contains("CardHolderMessage"))
            #expect(fail.contentHMAC == hmac(fail.body))
            #expect(await sandbox.recorder.all("pay").isEmpty)
        }
    }

    @Test("a Check refusal declines with its reason code and sends Fail", arguments: [(12, 3003), (20, 3004), (99, 3008)])
    func checkRefusal(checkCode: Int, reasonCode: Int) async throws {
        try await SandboxHarness.run(checkCode: checkCode) { sandbox in
            let envelope = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ]).envelope
            #expect(!envelope.success)
            #expect(envelope.model?.reasonCode == reasonCode)
            let fail = try await sandbox.recorder.waitFor("fail")
            #expect(fail.first?.fields["ReasonCode"] == String(reasonCode))
            #expect(await sandbox.recorder.all("pay").isEmpty)
        }
    }

    @Test("duplicateNotifications=1 delivers two identical Pay copies")
    func duplicates() async throws {
        try await SandboxHarness.run(faults: SandboxFaults(duplicateNotifications: 1)) { sandbox in
            _ = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ])
            let pays = try await sandbox.recorder.waitFor("pay", count: 2)
            #expect(pays.count == 2)
            #expect(pays[0].body == pays[1].body)
            #expect(await sandbox.recorder.all("check").count == 1)
        }
    }

    @Test("dropNotifications=1 loses the first attempt; the retry delivers")
    func droppedThenRetried() async throws {
        let started = ContinuousClock.now
        try await SandboxHarness.run(faults: SandboxFaults(dropNotifications: 1), retrySchedule: [.milliseconds(200)]) { sandbox in
            _ = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ])
            let pays = try await sandbox.recorder.waitFor("pay")
            #expect(pays.count == 1)
            #expect(ContinuousClock.now - started >= .milliseconds(200))
        }
    }

    private func hmac(_ message: String) -> String {
        let key = SymmetricKey(data: Data(SandboxHarness.apiSecret.utf8))
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)).base64EncodedString()
    }
}
