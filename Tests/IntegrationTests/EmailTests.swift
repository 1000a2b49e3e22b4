import Billing
import BillingCore
import Delivery
import Foundation
import MailSink
import PostgresNIO
import Storage
import Testing

/// Email to viewers through a real SMTP server (aiosmtpd, `scripts/smtp_sink.py`): rendered when
/// the event is published, in the viewer's language, sent by the worker, retried while the
/// server is down, and never sent twice.
@Suite("Email")
struct EmailTests {
    /// Runs `body` with a sink on `port` (0: a free one), stopped after whatever `body` did.
    func withSink(port: Int = 0, _ body: (SMTPSink) async throws -> Void) async throws {
        let sink = try await SMTPSink.start(port: port)
        do {
            try await body(sink)
        } catch {
            await sink.stop()
            throw error
        }
        await sink.stop()
    }

    /// Sends every email that is due, round after round, until none is left.
    func sendAll(_ dispatcher: EventDispatcher) async throws {
        try await dispatcher.publishAll()
        while try await dispatcher.sendDueEmails() > 0 {}
    }

    func emailRows(of viewer: Viewer, in database: Database) async throws -> [(template: String, status: String, attempts: Int, error: String?)] {
        var rows: [(String, String, Int, String?)] = []
        for try await row in try await database.client.query(
            "SELECT template, status, attempts, last_error FROM emails WHERE user_id = \(viewer.id) ORDER BY created_at, template", logger: testLogger
        ).decode((String, String, Int, String?).self) { rows.append(row) }
        return rows.map { (template: $0.0, status: $0.1, attempts: $0.2, error: $0.3) }
    }

    @Test("the payment and refund emails reach a real SMTP server with the right recipient, subject, language and amounts")
    func paymentAndRefund() async throws {
        try await LiveStack.withEvents { stack, _, httpClient in
            try await withSink { sink in
                let transport = try SMTPTransport(url: sink.url, from: "Movix <billing@movix.test>", logger: testLogger)
                let dispatcher = try await stack.dispatcher(httpClient: httpClient, transport: transport)

                let (anna, annaInvoice) = try await stack.purchase(checkout: ["email": "anna@example.com", "language": "en"])
                let (ivan, ivanInvoice) = try await stack.purchase(checkout: ["email": "ivan@example.com"])
                // Ivan cancels within the first hour: all his money goes back.
                let price = try #require((ivanInvoice["amount"] as? [String: Any])?["amount"] as? Int)
                let cancel = try await stack.post(stack.billingURL + "/v1/subscription/cancel", json: ["confirm": true, "expected_refund": price], headers: [("Authorization", "Bearer \(ivan.token)")])
                #expect(cancel.status == 200, "\(cancel.body)")
                #expect(try await eventually { try await stack.database.count("SELECT count(*)::int FROM refunds WHERE status = 'refunded'") == 1 })
                try await sendAll(dispatcher)

                let messages = try sink.deliveredMessages()
                #expect(Set(messages.map(\.messageID)).count == messages.count, "no message twice")
                let toAnna = messages.filter { $0.to == "anna@example.com" }
                #expect(toAnna.map(\.subject) == ["Your Movix subscription is paid"])
                let paid = try #require(toAnna.first)
                let annaAmount = Language.en.amount(Money.rub(Int64(try #require((annaInvoice["amount"] as? [String: Any])?["amount"] as? Int))))
                #expect(paid.contentLanguage == "en")
                #expect(paid.from.contains("billing@movix.test"))
                #expect(paid.text.contains("We received your payment of \(annaAmount)."), "\(paid.text)")
                #expect(paid.text.contains("•••• 3055"))
                #expect(paid.html?.contains(annaAmount) == true && paid.html?.contains("<html lang=\"en\">") == true)
                #expect(!paid.text.contains("400000") && paid.html?.contains("400000") == false, "no card number beyond its last four digits")

                let toIvan = messages.filter { $0.to == "ivan@example.com" }
                #expect(Set(toIvan.map(\.subject)) == ["Подписка Movix оплачена", "Подписка Movix отменена", "Movix вернул деньги", "Подписка Movix закончилась"])
                #expect(toIvan.count == 4)
                #expect(toIvan.allSatisfy { $0.contentLanguage == "ru" })
                let refunded = try #require(toIvan.first { $0.subject == "Movix вернул деньги" })
                let ivanAmount = Language.ru.amount(Money.rub(Int64(price)))
                #expect(refunded.text.contains("Мы вернули \(ivanAmount) на карту ") && refunded.text.contains("•••• 3055."), "\(refunded.text)")
                let cancelled = try #require(toIvan.first { $0.subject == "Подписка Movix отменена" })
                #expect(cancelled.text.contains(ivanAmount))
                #expect(cancelled.text.contains("Доступ к фильмам закрыт."), "refunded in full, access ended at once: \(cancelled.text)")
                #expect(!messages.contains { $0.text.contains("г..") }, "no doubled full stop after a Russian date")
                #expect(try await emailRows(of: anna, in: stack.database).map(\.status) == ["sent"])
                #expect(try await emailRows(of: ivan, in: stack.database).allSatisfy { $0.status == "sent" && $0.attempts == 1 })

                // Published again (a second publisher, a replay of the outbox): nothing is mailed twice.
                try await stack.database.client.query("UPDATE outbox_events SET dispatched_at = NULL, sequence = NULL", logger: testLogger).collect()
                try await sendAll(dispatcher)
                #expect(try sink.deliveredMessages().count == messages.count)
            }
        }
    }

    @Test("a mail server that is down delays the mail; once it is up the mail arrives, once")
    func serverDown() async throws {
        try await LiveStack.withEvents { stack, clock, httpClient in
            let port = try freePort()
            let transport = try SMTPTransport(url: "smtp://127.0.0.1:\(port)?starttls=never", from: "Movix <billing@movix.test>", logger: testLogger)
            let dispatcher = try await stack.dispatcher(httpClient: httpClient, transport: transport)
            let (viewer, _) = try await stack.purchase(checkout: ["email": "olga@example.com", "language": "en"])
            try await sendAll(dispatcher)
            let waiting = try await emailRows(of: viewer, in: stack.database)
            #expect(waiting.map(\.status) == ["queued"])
            #expect(waiting.first?.attempts == 1)
            #expect(waiting.first?.error?.isEmpty == false)

            try await withSink(port: port) { sink in
                // Not before its backoff.
                #expect(try await dispatcher.sendDueEmails() == 0)
                _ = clock.advance(by: 120)
                #expect(try await dispatcher.sendDueEmails() == 1)
                _ = clock.advance(by: 3600)
                try await sendAll(dispatcher)
                let messages = try sink.deliveredMessages()
                #expect(messages.map(\.to) == ["olga@example.com"])
                #expect(messages.map(\.subject) == ["Your Movix subscription is paid"])
                #expect(try await emailRows(of: viewer, in: stack.database).map(\.status) == ["sent"])
            }
        }
    }
}
