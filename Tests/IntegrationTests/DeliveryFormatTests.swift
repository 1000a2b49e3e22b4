import Billing
import BillingCore
import Crypto
import Delivery
import Foundation
import Testing

/// What receivers and viewers get, without a database: the signature header, the envelope and
/// the words of every email in both languages.
@Suite("Delivery formats")
struct DeliveryFormatTests {
    static let body = Data(#"{"id":"e1","type":"invoice.paid"}"#.utf8)

    @Test("a signature verifies with its secret and time, and with nothing else")
    func signature() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let header = WebhookSignature.header(secret: "whsec_one", timestamp: 1_800_000_000, body: Self.body)
        #expect(header.hasPrefix("t=1800000000,v1="))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("1800000000.".utf8) + Self.body, using: SymmetricKey(data: Data("whsec_one".utf8)))
        #expect(header == "t=1800000000,v1=" + mac.map { String(format: "%02x", $0) }.joined())
        #expect(WebhookSignature.isValid(header: header, secret: "whsec_one", body: Self.body, now: now))
        #expect(WebhookSignature.isValid(header: header, secret: "whsec_one", body: Self.body, now: now.addingTimeInterval(300)))
        #expect(!WebhookSignature.isValid(header: header, secret: "whsec_one", body: Self.body, now: now.addingTimeInterval(301)), "too old: a replay")
        #expect(!WebhookSignature.isValid(header: header, secret: "whsec_one", body: Self.body, now: now.addingTimeInterval(-301)))
        #expect(!WebhookSignature.isValid(header: header, secret: "whsec_two", body: Self.body, now: now))
        #expect(!WebhookSignature.isValid(header: header, secret: "whsec_one", body: Data(#"{"id":"e2"}"#.utf8), now: now))
        // A receiver rolling its secret: either v1 may match.
        let other = WebhookSignature.header(secret: "whsec_two", timestamp: 1_800_000_000, body: Self.body)
        let both = header + "," + other.split(separator: ",")[1]
        #expect(WebhookSignature.isValid(header: both, secret: "whsec_two", body: Self.body, now: now))
        for broken in ["", "t=abc,v1=00", "v1=" + header.split(separator: "=").last!, "t=1800000000", "t=1800000000,v1=zz", "t=1800000000,v1=0"] {
            #expect(!WebhookSignature.isValid(header: broken, secret: "whsec_one", body: Self.body, now: now), "\(broken)")
        }
    }

    @Test("the envelope is the same text every time, with null where there is nothing")
    func envelope() throws {
        let event = OutboxEvent(
            rowID: 7, id: UUID(uuidString: "5B1F0C1E-8F3E-4C65-9D0C-3F2B9B3F6A10")!, type: .refundSucceeded, schemaVersion: 1,
            occurredAt: Date(timeIntervalSince1970: 1_800_000_000.25), sequence: 42, subscriptionID: nil, userID: nil, data: #"{"refund":{"id":"r"}}"#
        )
        let json = EventEnvelope.json(event)
        #expect(json == EventEnvelope.json(event))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(parsed["id"] as? String == "5b1f0c1e-8f3e-4c65-9d0c-3f2b9b3f6a10")
        #expect(parsed["type"] as? String == "refund.succeeded")
        #expect(parsed["schema_version"] as? Int == 1)
        #expect(parsed["sequence"] as? Int == 42)
        #expect(parsed["occurred_at"] as? String == "2027-01-15T08:00:00.250Z")
        #expect(parsed["subscription_id"] is NSNull && parsed["user_id"] is NSNull)
        #expect(((parsed["data"] as? [String: Any])?["refund"] as? [String: Any])?["id"] as? String == "r")
    }
}
