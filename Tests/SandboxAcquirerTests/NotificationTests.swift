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
                "Amount": 299, "InvoiceId": "inv 42", "AccountId": "user-1", "Email": "a+b@example.com", "SaveCard": true,
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
            // .NET-style: a space is "+", so a "+" in the e-mail must be %2b (lowercase) to survive.
            #expect(pay.body.contains("InvoiceId=inv+42"))
            #expect(pay.body.contains("Email=a%2bb%40example.com"))

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

    @Test("bodies are .NET-encoded (+ for a space, lowercase %xx, -_.!*() bare, empty fields as Name=) and signed as sent")
    func dotNetEncoding() async throws {
        try await SandboxHarness.run { sandbox in
            _ = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "InvoiceId": "inv (1)!*", "Description": "Подписка Movix ~ 1 мес.", "Email": "",
                "JsonData": ["a": "b c"], "CardCryptogramPacket": TestCard.cryptogram("4000000000003055", name: ""),
            ])
            let pay = try #require(try await sandbox.recorder.waitFor("pay").first)
            #expect(pay.body == Self.dotNetEncoded(FormBody.decode(pay.body)))
            #expect(pay.body.contains("&InvoiceId=inv+(1)!*&"))
            #expect(pay.body.contains("&Description=%d0%9f%d0%be%d0%b4%d0%bf%d0%b8%d1%81%d0%ba%d0%b0+Movix+%7e+1+%d0%bc%d0%b5%d1%81.&"))
            #expect(pay.body.contains("&Data=%7b%22a%22%3a%22b+c%22%7d&"))
            for empty in ["Email", "Name", "SubscriptionId", "PaymentMethod", "Token"] {
                #expect(pay.body.contains("&\(empty)=&"), "\(empty)")
            }
            #expect(pay.body.firstMatch(of: /%(?:[0-9a-f][A-F]|[A-F][0-9A-Fa-f])/) == nil)
            #expect(pay.contentHMAC == hmac(pay.body))
            let decoded = FormBody.decode(pay.body).map { "\($0.0)=\($0.1)" }.joined(separator: "&")
            #expect(pay.decodedContentHMAC == hmac(decoded))
        }
    }

    /// HttpUtility.UrlEncode, written out independently of the sandbox's encoder.
    private static func dotNetEncoded(_ fields: [(String, String)]) -> String {
        let bare = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!*()".utf8)
        func encode(_ text: String) -> String {
            text.utf8.map { byte in
                if bare.contains(byte) { return String(UnicodeScalar(byte)) }
                if byte == 0x20 { return "+" }
                return "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: false)
            }.joined()
        }
        return fields.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    private func hmac(_ message: String) -> String {
        let key = SymmetricKey(data: Data(SandboxHarness.apiSecret.utf8))
        return Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)).base64EncodedString()
    }
}
