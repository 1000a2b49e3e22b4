import AsyncHTTPClient
import Billing
import BillingCore
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import Storage
import Synchronization

/// Delivers the outbox, in the worker (`movix-billing worker`; in-process under `dev`). Three
/// lanes run side by side, so a slow receiver never holds up mail or publishing:
/// - publishing: one worker at a time numbers newly committed events and queues a webhook
///   message per endpoint and an email per event that mails;
/// - webhooks: any number of workers deliver due messages, several at once, each subscription's
///   in order (`WebhookMessageRepository.claim`);
/// - email: any number of workers send due emails.
/// Each lane wakes on LISTEN/NOTIFY (a commit with events, work queued by another worker) and
/// polls every `pollInterval` as well, for a lost notification and for retries coming due.
public struct EventDispatcher: Service {
    let services: BillingServices
    let composer: EmailComposer
    /// Nil when no mail server is configured: emails are rendered and wait, queued, for one.
    let transport: (any EmailTransport)?
    let sender: WebhookSender
    let settings: Settings
    let logger: Logger

    /// How the dispatcher paces itself.
    public struct Settings: Sendable {
        public var publishBatchSize = 500
        public var webhookConcurrency = 16
        public var webhookTimeout: Duration = .seconds(10)
        /// Emails claimed at once. One: each is sent within its own lease, however slow the mail
        /// server, so two workers never send the same one.
        public var emailBatchSize = 1
        /// How long a claimed message or email is this worker's (real time).
        public var lease: TimeInterval = 120
        public var pollInterval: Duration = .seconds(1)
        public var webhookBackoff = DeliveryBackoff.webhooks
        public var emailBackoff = DeliveryBackoff.email

        public init() {}
    }

    /// `httpClient` delivers webhooks: one from `makeHTTPClient()`, which follows no redirect.
    public init(services: BillingServices, composer: EmailComposer, transport: (any EmailTransport)?, httpClient: HTTPClient, settings: Settings = Settings(), logger: Logger) {
        self.services = services
        self.composer = composer
        self.transport = transport
        self.sender = WebhookSender(httpClient: httpClient, timeout: settings.webhookTimeout)
        self.settings = settings
        self.logger = logger
    }

    /// A client for webhooks. A receiver's redirect is not followed: the endpoint registered is
    /// where events go (and a POST redirected would arrive as a GET, without the event).
    public static func makeHTTPClient() -> HTTPClient {
        HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
    }

    public func run() async throws {
        let publishing = Wakeup()
        let webhooks = Wakeup()
        let mail = Wakeup()
        let lanes = Lanes(dispatcher: self, webhooks: webhooks, mail: mail)
        if transport == nil { logger.warning("MOVIX_SMTP_URL is not set: emails are rendered and queued, and sent once a mail server is configured") }
        logger.info("event dispatcher started")
        let wakeups = [publishing, webhooks, mail]
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await listen(waking: wakeups) }
            await withTaskGroup(of: Void.self) { running in
                running.addTask { await lanes.publishing(publishing) }
                running.addTask { await lanes.deliveringWebhooks() }
                if transport != nil { running.addTask { await lanes.sendingMail() } }
                // On a graceful shutdown every lane takes no more work and finishes what it
                // holds; a sleeping one is woken to see it.
                running.addTask {
                    try? await gracefulShutdown()
                    for wakeup in wakeups { wakeup.signal() }
                }
            }
            group.cancelAll()
        }
        logger.info("event dispatcher stopped")
    }

    /// Holds a LISTEN connection and signals the lanes on every notification; reconnects after a
    /// second when the connection is lost (the lanes poll meanwhile).
    private func listen(waking wakeups: [Wakeup]) async {
        while !Task.isCancelled {
            do {
                try await services.database.client.withConnection { connection in
                    try await connection.listen(on: JournalRepository.eventsChannel) { notifications in
                        for wakeup in wakeups { wakeup.signal() }
                        for try await _ in notifications {
                            for wakeup in wakeups { wakeup.signal() }
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("lost the LISTEN connection; polling until it is back", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Publishes one batch; returns how many events it published, nil when another worker is publishing.
    public func publishBatch() async throws -> Int? {
        try await services.database.transaction { connection in
            let now = services.clock.now()
            guard let events = try await services.outbox.publish(limit: settings.publishBatchSize, at: now, on: connection) else { return nil }
            guard !events.isEmpty else { return 0 }
            var emails: [Email] = []
            for event in events {
                do {
                    if let email = try await composer.email(for: event, on: connection) { emails.append(email) }
                } catch let error as PSQLError {
                    throw error
                } catch {
                    // A snapshot this build cannot read must not hold back every later event.
                    logger.error("could not render the email of an event", metadata: ["event": "\(event.id.lowercased)", "error": "\(error)"])
                    Counter(label: "movix_email_render_failures_total").increment()
                }
            }
            try await services.emails.queue(emails, at: now, on: connection)
            try await services.outbox.announce(on: connection)
            Counter(label: "movix_events_published_total").increment(by: events.count)
            return events.count
        }
    }

    /// Publishes everything committed so far: for tests and the time-travel clock.
    public func publishAll() async throws {
        while let published = try await publishBatch(), published > 0 {}
    }

    /// Claims up to `limit` due webhook messages (the earliest of each subscription's, per endpoint).
    func claimWebhooks(limit: Int) async throws -> [WebhookMessageRepository.Claimed] {
        try await services.database.read { connection in
            try await services.webhookMessages.claim(dueBy: services.clock.now(), now: Date(), lease: settings.lease, limit: limit, on: connection)
        }
    }

    /// One round of webhooks: delivers the messages due now, all at once; returns how many.
    public func deliverDueWebhooks() async throws -> Int {
        let claimed = try await claimWebhooks(limit: settings.webhookConcurrency)
        let outcomes = await withTaskGroup(of: WebhookMessageRepository.Outcome.self) { group in
            for message in claimed { group.addTask { await deliver(message) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        await record(outcomes)
        return claimed.count
    }

    /// One round of email: sends the emails due now; returns how many it tried.
    public func sendDueEmails() async throws -> Int {
        guard let transport else { return 0 }
        let claimed = try await services.database.read { connection in
            try await services.emails.claim(dueBy: services.clock.now(), now: Date(), lease: settings.lease, limit: settings.emailBatchSize, on: connection)
        }
        for email in claimed { await send(email, through: transport) }
        return claimed.count
    }

    /// Sends one message; what became of it is recorded with others (`record`).
    func deliver(_ message: WebhookMessageRepository.Claimed) async -> WebhookMessageRepository.Outcome {
        let outcome = await sender.send(message)
        let attempt = WebhookMessageRepository.Attempt(
            statusCode: outcome.statusCode, error: outcome.error, durationMilliseconds: outcome.durationMilliseconds, at: services.clock.now()
        )
        Counter(label: "movix_webhook_deliveries_total", dimensions: [("outcome", outcome.delivered ? "delivered" : "failed")]).increment()
        if outcome.delivered {
            Timer(label: "movix_event_delivery_seconds").recordSeconds(max(0, attempt.at.timeIntervalSince(message.event.occurredAt)))
            return WebhookMessageRepository.Outcome(message: message, attempt: attempt, retryAt: nil, failing: false)
        }
        logger.info("webhook delivery failed", metadata: [
            "endpoint": "\(message.endpoint.id.lowercased)", "event": "\(message.event.id.lowercased)",
            "attempt": "\(message.attempt)", "error": "\(outcome.error ?? "-")",
        ])
        let failures = message.firstFailedAt == nil ? 1 : message.attempt
        let delay = settings.webhookBackoff.delay(afterFailure: failures, random: Double.random(in: 0..<1))
        return WebhookMessageRepository.Outcome(
            message: message, attempt: attempt, retryAt: attempt.at.addingTimeInterval(delay),
            failing: settings.webhookBackoff.isFailing(since: message.firstFailedAt ?? attempt.at, at: attempt.at)
        )
    }

    /// Records finished deliveries in one statement. On failure their leases run out and they
    /// are delivered again: at least once, never lost.
    func record(_ outcomes: [WebhookMessageRepository.Outcome]) async {
        guard !outcomes.isEmpty else { return }
        do {
            try await services.database.read { try await services.webhookMessages.record(outcomes, on: $0) }
        } catch {
            logger.warning("could not record webhook deliveries", metadata: ["deliveries": "\(outcomes.count)", "error": "\(error)"])
        }
    }

    func send(_ email: Email, through transport: any EmailTransport) async {
        let outcome = await transport.send(email)
        let now = services.clock.now()
        do {
            try await services.database.read { connection in
                switch outcome {
                case .sent:
                    try await services.emails.sent(email.id, at: now, on: connection)
                case .retry(let error):
                    let givenUp = settings.emailBackoff.isFailing(since: email.createdAt, at: now)
                    let delay = settings.emailBackoff.delay(afterFailure: email.attempts, random: Double.random(in: 0..<1))
                    try await services.emails.failed(email.id, error: error, retryAt: givenUp ? nil : now.addingTimeInterval(delay), on: connection)
                case .rejected(let error):
                    try await services.emails.failed(email.id, error: error, retryAt: nil, on: connection)
                }
            }
        } catch {
            logger.warning("could not record an email's outcome", metadata: ["email": "\(email.id.lowercased)", "error": "\(error)"])
        }
        let label = switch outcome { case .sent: "sent"; case .retry: "retry"; case .rejected: "rejected" }
        Counter(label: "movix_emails_total", dimensions: [("outcome", label)]).increment()
        if outcome != .sent {
            logger.warning("email not sent", metadata: ["email": "\(email.id.lowercased)", "template": "\(email.template.rawValue)", "outcome": "\(outcome)"])
        }
    }

    /// The lanes' loops, sharing the dispatcher's wakeups.
    struct Lanes: Sendable {
        let dispatcher: EventDispatcher
        let webhooks: Wakeup
        let mail: Wakeup

        var services: BillingServices { dispatcher.services }
        var settings: Settings { dispatcher.settings }
        var logger: Logger { dispatcher.logger }

        func publishing(_ wakeup: Wakeup) async {
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                do {
                    let published = try await dispatcher.publishBatch()
                    if let published, published > 0 {
                        webhooks.signal()
                        mail.signal()
                        if published == settings.publishBatchSize { continue }
                    }
                } catch {
                    logger.warning("could not publish events", metadata: ["error": "\(error)"])
                }
                await wakeup.wait(timeout: settings.pollInterval)
            }
        }

        /// Keeps up to `webhookConcurrency` deliveries in flight. What finished is recorded in one
        /// statement before the next claim (a subscription's next message is claimable only once
        /// the one before is recorded delivered); more are claimed once a quarter of the slots are
        /// free, or none is busy, so that a busy lane makes few claims of many rather than many of one.
        func deliveringWebhooks() async {
            // Every finished delivery's outcome, as soon as it finishes: recorded together before
            // the next claim, however many finished meanwhile.
            let finished = FinishedDeliveries()
            await withTaskGroup(of: Bool.self) { group in
                var inFlight = 0
                var waiting = false
                let claimAt = max(1, settings.webhookConcurrency / 4)
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    await dispatcher.record(finished.drain())
                    let free = settings.webhookConcurrency - inFlight
                    var claimed: [WebhookMessageRepository.Claimed] = []
                    if free >= claimAt || inFlight == 0 {
                        do {
                            claimed = try await dispatcher.claimWebhooks(limit: free)
                        } catch {
                            logger.warning("could not claim webhook messages", metadata: ["error": "\(error)"])
                        }
                    }
                    for message in claimed {
                        inFlight += 1
                        group.addTask {
                            let outcome = await dispatcher.deliver(message)
                            finished.append(outcome)
                            return true
                        }
                    }
                    if !claimed.isEmpty, claimed.count == free { continue }
                    // Sleep until a delivery ends (its subscription's next message may be due) or a wakeup.
                    if !waiting {
                        waiting = true
                        group.addTask { await webhooks.wait(timeout: settings.pollInterval); return false }
                    }
                    guard let delivery = await group.next() else { break }
                    if delivery { inFlight -= 1 } else { waiting = false }
                }
                // Shutting down: the deliveries under way finish and are recorded; the sleeper is woken.
                webhooks.signal()
                while await group.next() != nil {}
                await dispatcher.record(finished.drain())
            }
        }

        func sendingMail() async {
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                var tried = 0
                do {
                    tried = try await dispatcher.sendDueEmails()
                } catch {
                    logger.warning("could not claim emails", metadata: ["error": "\(error)"])
                }
                if tried == settings.emailBatchSize { continue }
                await mail.wait(timeout: settings.pollInterval)
            }
        }
    }
}

/// Outcomes of deliveries that finished and are not recorded yet.
final class FinishedDeliveries: Sendable {
    private let outcomes = Mutex<[WebhookMessageRepository.Outcome]>([])

    func append(_ outcome: WebhookMessageRepository.Outcome) {
        outcomes.withLock { $0.append(outcome) }
    }

    /// Takes them all.
    func drain() -> [WebhookMessageRepository.Outcome] {
        outcomes.withLock { outcomes in
            defer { outcomes.removeAll() }
            return outcomes
        }
    }
}
