import AsyncHTTPClient
import Foundation
import SandboxAcquirer
import Testing

@Suite("Refunds and their fault switches")
struct RefundTests {
    /// A completed 299.00 payment; returns its transaction id.
    private func payment(_ sandbox: SandboxHarness, invoice: String = "inv-refund") async throws -> Int64 {
        let paid = try await sandbox.api("/payments/cards/charge", [
            "Amount": "299.00", "InvoiceId": invoice, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
        ]).envelope
        return try #require(paid.model?.transactionId)
    }

    @Test("partial then full refunds add up to the payment; over-refunds are refused; X-Request-ID replays the answer")
    func partialFullAndReplay() async throws {
        try await SandboxHarness.run { sandbox in
            let id = try await payment(sandbox)
            let first = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 100], headers: [("X-Request-ID", "refund-1")])
            let replay = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 100], headers: [("X-Request-ID", "refund-1")])
            #expect(try first.envelope.success)
            #expect(replay.body == first.body)

            let over = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": "199.01"]).envelope
            #expect(!over.success)
            #expect(over.model == nil)
            #expect(over.message?.contains("199.00") == true)

            // The replay refunded nothing, so exactly 199.00 is left.
            #expect(try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": "199.00"]).envelope.success)
            #expect(try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": "0.01"]).envelope.success == false)

            let refunds = try await sandbox.recorder.waitFor("refund", count: 2)
            try await Task.sleep(for: .milliseconds(300))
            #expect(await sandbox.recorder.all("refund").count == 2)
            #expect(Set(refunds.map { $0.fields["Amount"] ?? "" }) == ["100.00", "199.00"])
        }
    }

    @Test("refundDecline refuses with its message, refunds nothing and notifies nothing; true gives a default message")
    func declinedRefunds() async throws {
        try await SandboxHarness.run { sandbox in
            let id = try await payment(sandbox)
            try await sandbox.setFaults(#"{"refundDecline":"Merchant balance is too low"}"#)
            let faults = try await sandbox.send("/sandbox/faults", method: .GET)
            #expect(faults.body.contains(#""refundDecline":"Merchant balance is too low""#))

            let declined = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 100])
            #expect(declined.body == #"{"Success":false,"Message":"Merchant balance is too low"}"#)

            try await sandbox.setFaults(#"{"refundDecline":true}"#)
            let byDefault = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": 100]).envelope
            #expect(!byDefault.success)
            #expect(byDefault.message == SandboxFaults.defaultRefundDeclineMessage)

            try await Task.sleep(for: .milliseconds(300))
            #expect(await sandbox.recorder.all("refund").isEmpty)

            // Nothing was taken off: the whole amount can still be refunded once the switch is off.
            try await sandbox.setFaults(#"{"refundDecline":false}"#)
            #expect(try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": "299.00"]).envelope.success)
            #expect(try await sandbox.recorder.waitFor("refund").count == 1)
        }
    }

    @Test("refundTimeoutMs: the client times out, yet the refund is made and notified; a replay tells its id")
    func timedOutRefund() async throws {
        try await SandboxHarness.run { sandbox in
            let id = try await payment(sandbox)
            try await sandbox.setFaults(#"{"refundTimeoutMs":1500}"#)

            // The client's own deadline ends the call, not an answer from the sandbox.
            await #expect(throws: HTTPClientError.deadlineExceeded) {
                _ = try await sandbox.api(
                    "/payments/refund", ["TransactionId": id, "Amount": "299.00"],
                    headers: [("X-Request-ID", "refund-timeout")], timeout: .milliseconds(300)
                )
            }

            // The money moved while the client saw nothing.
            let notified = try #require(try await sandbox.recorder.waitFor("refund").first)
            #expect(notified.fields["PaymentTransactionId"] == String(id))
            #expect(notified.fields["Amount"] == "299.00")

            // A patient client gets the answer, late.
            let slowStart = ContinuousClock.now
            let refused = try await sandbox.api("/payments/refund", ["TransactionId": id, "Amount": "1.00"]).envelope
            #expect(ContinuousClock.now - slowStart >= .milliseconds(1500))
            #expect(!refused.success)

            try await sandbox.setFaults("{}")
            let replay = try await sandbox.api(
                "/payments/refund", ["TransactionId": id, "Amount": "299.00"], headers: [("X-Request-ID", "refund-timeout")]
            ).envelope
            #expect(replay.success)
            #expect(replay.model?.transactionId.map(String.init) == notified.fields["TransactionId"])
            try await Task.sleep(for: .milliseconds(300))
            #expect(await sandbox.recorder.all("refund").count == 1)
        }
    }

    @Test("negative refundTimeoutMs is refused")
    func negativeTimeout() async throws {
        try await SandboxHarness.run { sandbox in
            let answer = try await sandbox.send("/sandbox/faults", method: .PUT, body: #"{"refundTimeoutMs":-1}"#, contentType: "application/json")
            #expect(answer.status == 400)
        }
    }
}
