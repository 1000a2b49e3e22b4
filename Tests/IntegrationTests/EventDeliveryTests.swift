import AsyncHTTPClient
import Billing
import BillingCore
import Crypto
import Delivery
import Foundation
import PostgresNIO
import Storage
import Testing

/// Events delivered on a real PostgreSQL to real HTTP receivers: the outbox is published in
/// order with typed snapshots, webhooks are signed and retried until the receiver takes them,
/// and two dispatchers at once deliver every event once, each subscription's in order.
@Suite("Event delivery")
struct EventDeliveryTests {
    /// Registers `url` for `types` through the internal API; returns the endpoint's id and secret.
    func register(_ url: String, types: [String], on stack: LiveStack) async throws -> (id: String, secret: String) {
        let answer = try await stack.internalAPI(.POST, "/webhook-endpoints", json: ["url": url, "event_types": types])
        #expect(answer.status == 201, "\(answer.body)")
        let id = try #require(answer.json["id"] as? String)
        let secret = try #require(answer.json["secret"] as? String)
        return (id, secret)
    }

    /// HMAC-SHA256 of "t.body" in hex, as docs/events.md tells a receiver to compute it.
    func documentedSignature(secret: String, timestamp: String, body: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    @Test("a payment's events are published in order, with typed snapshots, and page through the events API")
    func publishedAndPaged() async throws {
        try await LiveStack.withEvents { stack, _, httpClient in
            let (viewer, invoice) = try await stack.purchase()
            let dispatcher = try await stack.dispatcher(httpClient: httpClient)
            try await dispatcher.publishAll()

            let page = try await stack.internalAPI(.GET, "/events?limit=1000")
            #expect(page.status == 200)
            let events = try #require(page.json["events"] as? [[String: Any]])
            let mine = events.filter { ($0["user_id"] as? String) == viewer.id.lowercased }
            // In the order the payment's transaction wrote them.
            #expect(mine.map { $0["type"] as? String } == ["subscription.activated", "invoice.paid"])
            let paid = try #require(mine.first { $0["type"] as? String == "invoice.paid" })
            #expect(paid["schema_version"] as? Int == 1)
            #expect(paid["subscription_id"] as? String != nil)
            let snapshot = try #require((paid["data"] as? [String: Any])?["invoice"] as? [String: Any])
            #expect(snapshot["id"] as? String == invoice["id"] as? String)
            #expect(snapshot["status"] as? String == "paid")
            let amount = try #require(snapshot["amount"] as? [String: Any])
            // A number in minor units, not a string.
            let paidAmount = try #require((invoice["amount"] as? [String: Any])?["amount"] as? Int)
            #expect(amount["amount"] as? Int == paidAmount)
            #expect(amount["currency"] as? String == "RUB")
            #expect((snapshot["card"] as? [String: Any])?["last_four"] as? String == "3055")
            let sequences = events.compactMap { $0["sequence"] as? Int }
            #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)

            // After the first event: the rest, in the same order.
            let first = try #require(events.first?["id"] as? String)
            let rest = try await stack.internalAPI(.GET, "/events?after=\(first)&limit=1000")
            #expect((rest.json["events"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == events.dropFirst().compactMap { $0["id"] as? String })
            #expect(try await stack.internalAPI(.GET, "/events?after=\(UUID().lowercased)").status == 404)
            #expect(try await stack.internalAPI(.GET, "/events?after=nope").status == 422)
            #expect(try await stack.internalAPI(.GET, "/events?type=invoice.nonsense").status == 422)
            let only = try await stack.internalAPI(.GET, "/events?type=invoice.paid&limit=1000")
            #expect((only.json["events"] as? [[String: Any]])?.allSatisfy { $0["type"] as? String == "invoice.paid" } == true)
            let one = try await stack.internalAPI(.GET, "/events/\(first)")
            #expect(one.json["id"] as? String == first)
        }
    }

    @Test("a receiver that fails three times then succeeds gets the event, with four attempts recorded and a signature it can verify")
    func retriedUntilDelivered() async throws {
        try await LiveStack.withEvents { stack, clock, httpClient in
            let receiver = try WebhookReceiver(failures: 3)
            try await receiver.serving {
                let endpoint = try await register(receiver.url, types: ["invoice.paid"], on: stack)
                _ = try await stack.purchase()
                let dispatcher = try await stack.dispatcher(httpClient: httpClient)
                try await dispatcher.publishAll()
                for attempt in 1...4 {
                    #expect(try await dispatcher.deliverDueWebhooks() == 1, "attempt \(attempt)")
                    // Not due again before its backoff; due after it (an hour is past any of the first delays).
                    #expect(try await dispatcher.deliverDueWebhooks() == 0)
                    _ = clock.advance(by: 3600)
                }
                #expect(try await dispatcher.deliverDueWebhooks() == 0)

                #expect(receiver.received.map(\.status) == [500, 500, 500, 200])
                #expect(Set(receiver.received.map(\.eventID)).count == 1)
                #expect(Set(receiver.received.map(\.body)).count == 1, "every attempt carries the same body")
                let rows = try await stack.database.client.query("""
                    SELECT d.attempt, d.status_code, d.duration_ms, m.delivered_at IS NOT NULL FROM webhook_deliveries d
                    JOIN webhook_messages m ON m.id = d.message_id WHERE d.endpoint_id = \(UUID(uuidString: endpoint.id)!) ORDER BY d.attempt
                    """, logger: testLogger)
                var attempts: [(Int, Int?, Int, Bool)] = []
                for try await row in rows.decode((Int, Int?, Int, Bool).self) { attempts.append(row) }
                #expect(attempts.map(\.0) == [1, 2, 3, 4])
                #expect(attempts.map(\.1) == [500, 500, 500, 200])
                #expect(attempts.allSatisfy { $0.2 >= 0 && $0.3 })

                let delivered = try #require(receiver.accepted.first)
                #expect(delivered.json["type"] as? String == "invoice.paid")
                let parts = Dictionary(uniqueKeysWithValues: delivered.signature.split(separator: ",").map { part -> (String, String) in
                    let pair = part.split(separator: "=", maxSplits: 1)
                    return (String(pair[0]), String(pair[1]))
                })
                let timestamp = try #require(parts["t"])
                #expect(abs(Double(timestamp)! - Date().timeIntervalSince1970) < 300)
                #expect(parts["v1"] == documentedSignature(secret: endpoint.secret, timestamp: timestamp, body: delivered.body))
                #expect(parts["v1"] != documentedSignature(secret: "whsec_wrong", timestamp: timestamp, body: delivered.body))
                #expect(WebhookSignature.isValid(header: delivered.signature, secret: endpoint.secret, body: Data(delivered.body.utf8), now: Date()))
                #expect(!WebhookSignature.isValid(header: delivered.signature, secret: "whsec_wrong", body: Data(delivered.body.utf8), now: Date()))
                #expect(!WebhookSignature.isValid(header: delivered.signature, secret: endpoint.secret, body: Data(delivered.body.utf8), now: Date().addingTimeInterval(301)))

                let shown = try await stack.internalAPI(.GET, "/webhook-endpoints/\(endpoint.id)")
                #expect(shown.json["secret"] == nil, "the secret is shown once")
                #expect(shown.json["delivered_count"] as? Int == 1)
                #expect((shown.json["last_attempt"] as? [String: Any])?["status_code"] as? Int == 200)
            }
        }
    }

    @Test("two dispatchers at once deliver every event exactly once, each subscription's in order")
    func twoDispatchers() async throws {
        try await LiveStack.withEvents { stack, _, httpClient in
            let receiver = try WebhookReceiver()
            try await receiver.serving {
                _ = try await register(receiver.url, types: ["*"], on: stack)
                let subscriptions = (0..<40).map { _ in UUID() }
                let perSubscription = 5
                // Events as the use cases write them: through the journal, several subscriptions
                // to a transaction, in an order that interleaves them.
                @Sendable func write(round: Int) async throws {
                    for chunk in stride(from: 0, to: subscriptions.count, by: 8) {
                        try await stack.database.journaledTransaction { _, journal in
                            for subscription in subscriptions[chunk..<min(chunk + 8, subscriptions.count)] {
                                journal.enqueueEvent(
                                    .subscriptionRenewed, aggregateID: subscription, subscriptionID: subscription, userID: subscription,
                                    at: stack.clock.now(), payload: "{\"round\": \(round)}"
                                )
                            }
                        }
                    }
                }
                for round in 0..<2 { try await write(round: round) }
                var settings = EventDispatcher.Settings()
                settings.webhookConcurrency = 4
                settings.publishBatchSize = 16
                let first = try await stack.dispatcher(httpClient: httpClient, settings: settings)
                let second = try await stack.dispatcher(httpClient: httpClient, settings: settings)
                let total = subscriptions.count * perSubscription
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await first.run() }
                    group.addTask { try await second.run() }
                    // The rest is written while they run: LISTEN/NOTIFY wakes them.
                    for round in 2..<perSubscription { try await write(round: round) }
                    for _ in 0..<600 where receiver.received.count < total { try await Task.sleep(for: .milliseconds(50)) }
                    // Anything more (a duplicate) would arrive in this moment.
                    try await Task.sleep(for: .milliseconds(500))
                    group.cancelAll()
                }
                let received = receiver.received
                #expect(received.count == total)
                #expect(Set(received.map(\.eventID)).count == total, "each event once")
                for subscription in subscriptions {
                    let rounds = received.filter { $0.json["subscription_id"] as? String == subscription.lowercased }
                        .compactMap { ($0.json["data"] as? [String: Any])?["round"] as? Int }
                    #expect(rounds == Array(0..<perSubscription), "subscription \(subscription) got \(rounds)")
                }
                var undelivered = 0
                for try await count in try await stack.database.client.query(
                    "SELECT count(*)::int FROM webhook_messages WHERE delivered_at IS NULL", logger: testLogger
                ).decode(Int.self) { undelivered = count }
                #expect(undelivered == 0)
            }
        }
    }

    @Test("endpoints: bad registrations are refused, deletion stops deliveries, events can be replayed")
    func endpointsAndReplay() async throws {
        try await LiveStack.withEvents { stack, _, httpClient in
            for bad: [String: Any] in [
                ["url": "ftp://example.com/hook", "event_types": ["*"]],
                ["url": "not a url", "event_types": ["*"]],
                ["url": "https://user:pass@example.com/hook", "event_types": ["*"]],
                ["url": "https://example.com/hook", "event_types": []],
                ["url": "https://example.com/hook", "event_types": ["invoice.nonsense"]],
                ["url": "https://example.com/hook"],
                ["url": "http://127.0.0.1:65536/hook", "event_types": ["*"]],
                ["url": "http://127.0.0.1:0/hook", "event_types": ["*"]],
            ] {
                let answer = try await stack.internalAPI(.POST, "/webhook-endpoints", json: bad)
                #expect(answer.status == 422 || answer.status == 400, "\(bad): \(answer.status) \(answer.body)")
            }
            let receiver = try WebhookReceiver()
            try await receiver.serving {
                let endpoint = try await register(receiver.url, types: ["invoice.paid"], on: stack)
                let gone = try await register(receiver.url, types: ["*"], on: stack)
                #expect(try await stack.internalAPI(.DELETE, "/webhook-endpoints/\(gone.id)").status == 204)
                #expect(try await stack.internalAPI(.DELETE, "/webhook-endpoints/\(gone.id)").status == 404)
                let listed = try await stack.internalAPI(.GET, "/webhook-endpoints")
                #expect((listed.json["endpoints"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [endpoint.id])

                _ = try await stack.purchase()
                let dispatcher = try await stack.dispatcher(httpClient: httpClient)
                try await dispatcher.publishAll()
                while try await dispatcher.deliverDueWebhooks() > 0 {}
                #expect(receiver.received.map(\.eventType) == ["invoice.paid"], "the deleted endpoint got nothing")

                let eventID = try #require(receiver.received.first?.eventID)
                let replay = try await stack.internalAPI(.POST, "/events/\(eventID)/replay")
                #expect(replay.status == 202)
                #expect(replay.json["queued"] as? Int == 1)
                while try await dispatcher.deliverDueWebhooks() > 0 {}
                #expect(receiver.received.map(\.eventID) == [eventID, eventID])
                #expect(receiver.received[0].body == receiver.received[1].body)
                #expect(try await stack.internalAPI(.POST, "/events/\(UUID().lowercased)/replay").status == 404)
                #expect(try await stack.internalAPI(.POST, "/events/\(eventID)/replay", json: ["endpoint_id": UUID().lowercased]).status == 404)
            }
        }
    }

    @Test("a receiver's answer counts by its status: a 2xx with a huge body is taken; one whose body never ends is cut off at the timeout, and taken")
    func answersOfAnySize() async throws {
        try await LiveStack.withEvents { stack, _, httpClient in
            let big = try WebhookReceiver(answerBytes: 200 * 1024)
            let slow = try WebhookReceiver(trickles: true)
            try await big.serving {
                try await slow.serving {
                    _ = try await register(big.url, types: ["invoice.paid"], on: stack)
                    _ = try await register(slow.url, types: ["invoice.paid"], on: stack)
                    _ = try await stack.purchase()
                    var settings = EventDispatcher.Settings()
                    settings.webhookTimeout = .seconds(2)
                    let dispatcher = try await stack.dispatcher(httpClient: httpClient, settings: settings)
                    try await dispatcher.publishAll()
                    let started = ContinuousClock.now
                    #expect(try await dispatcher.deliverDueWebhooks() == 2)
                    #expect(ContinuousClock.now - started < .seconds(15), "the trickling receiver is cut off near the 2 s timeout")
                    #expect(try await dispatcher.deliverDueWebhooks() == 0, "both taken: nothing to retry")
                    #expect(big.received.count == 1 && slow.received.count == 1)
                    var rows: [(Int?, String?)] = []
                    for try await row in try await stack.database.client.query(
                        "SELECT status_code, error FROM webhook_deliveries ORDER BY id", logger: testLogger
                    ).decode((Int?, String?).self) { rows.append(row) }
                    #expect(rows.map(\.0) == [200, 200], "\(rows)")
                }
            }
        }
    }
}
