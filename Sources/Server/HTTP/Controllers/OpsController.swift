import Billing
import BillingCore
import Foundation
import Hummingbird
import Metrics
import Prometheus
import Storage

/// Health probes, Prometheus metrics and the OpenAPI contract.
struct OpsController {
    let database: Database
    let registry: PrometheusCollectorRegistry
    let openAPIDocument: String
    /// The service's clock: what "due" means under time travel too.
    let clock: BillingClock

    func addRoutes(to router: Router<BillingRequestContext>) {
        router.get("health/live", use: live)
        router.get("health/ready", use: ready)
        router.get("metrics", use: metrics)
        router.get("openapi.yaml", use: openAPI)
    }

    /// A probe's answer.
    struct Health: ResponseEncodable {
        var status: String
    }

    @Sendable func live(_ request: Request, context: BillingRequestContext) -> Health {
        Health(status: "ok")
    }

    @Sendable func ready(_ request: Request, context: BillingRequestContext) async throws -> Health {
        // Within a second, whatever the database does: an orchestrator's probe must not hang, and
        // a database that cannot hand out a connection in half a second is not ready to serve.
        guard await database.ping(within: .milliseconds(500)) else {
            throw Problem(.serviceUnavailable, type: "not-ready", title: "Not ready", detail: "The database does not answer.", headers: [.retryAfter: "5"])
        }
        return Health(status: "ok")
    }

    @Sendable func metrics(_ request: Request, context: BillingRequestContext) async -> Response {
        await recordJobQueue(context: context)
        await recordDeliveryQueues(context: context)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: .init(bytes: registry.emitToBuffer()))
        )
    }

    /// The worker's queue as the database has it, whichever process runs the workers: due jobs,
    /// the oldest one's wait (lag) and failing ones, per kind. Skipped when the database is away.
    private func recordJobQueue(context: BillingRequestContext) async {
        let now = clock.now()
        guard let states = try? await database.read({ try await JobRepository().queue(at: now, on: $0) }) else {
            context.logger.warning("job queue metrics skipped: the database did not answer")
            return
        }
        for kind in JobKind.allCases {
            let state = states.first { $0.kind == kind }
            let dimensions = [("kind", kind.rawValue)]
            Gauge(label: "movix_jobs_due", dimensions: dimensions).record(state?.due ?? 0)
            Gauge(label: "movix_jobs_oldest_due_seconds", dimensions: dimensions).record(state?.oldestDueSeconds ?? 0)
            Gauge(label: "movix_jobs_failing", dimensions: dimensions).record(state?.failing ?? 0)
        }
    }

    /// The outbox, webhook and email queues as the database has them. Skipped when the database is away.
    private func recordDeliveryQueues(context: BillingRequestContext) async {
        let now = clock.now()
        let queues = try? await database.read { connection in
            (try await OutboxRepository().backlog(at: now, on: connection),
             try await WebhookMessageRepository().backlog(at: now, on: connection),
             try await EmailRepository().backlog(at: now, on: connection))
        }
        guard let (outbox, webhooks, emails) = queues else {
            context.logger.warning("delivery queue metrics skipped: the database did not answer")
            return
        }
        Gauge(label: "movix_events_unpublished").record(outbox.count)
        Gauge(label: "movix_events_oldest_unpublished_seconds").record(outbox.oldestSeconds)
        Gauge(label: "movix_webhook_messages_pending").record(webhooks.pending)
        Gauge(label: "movix_webhook_oldest_due_seconds").record(webhooks.oldestDueSeconds)
        Gauge(label: "movix_webhook_endpoints_failing").record(webhooks.failingEndpoints)
        Gauge(label: "movix_emails_queued").record(emails.queued)
        Gauge(label: "movix_emails_oldest_due_seconds").record(emails.oldestDueSeconds)
        Gauge(label: "movix_emails_failed").record(emails.failed)
    }

    @Sendable func openAPI(_ request: Request, context: BillingRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: .init(string: openAPIDocument)))
    }
}
