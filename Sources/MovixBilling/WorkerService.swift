import AsyncHTTPClient
import Billing
import BillingCore
import Delivery
import Logging
import PostgresNIO
import Server
import ServiceLifecycle
import Storage

/// The worker loop (`movix-billing worker`, and in-process under `dev` and `serve --with-worker`):
/// runs due jobs batch after batch, sleeps `pollInterval` when none is due, and reconciles with
/// the acquirer every `reconcileInterval`. On SIGTERM it claims nothing more and finishes the
/// batch it holds; a job it never got to is claimed by another worker once its lease ends.
struct WorkerService: Service {
    let runner: JobRunner
    var pollInterval: Duration = .seconds(1)
    var reconcileInterval: Duration = .seconds(60)
    let logger: Logger

    func run() async throws {
        logger.info("worker started", metadata: ["worker": "\(runner.workerID)"])
        var nextReconciliation = ContinuousClock.now
        while !Task.isShuttingDownGracefully {
            var claimed = 0
            do {
                claimed = try await runner.runDue()
            } catch {
                logger.warning("could not claim jobs", metadata: ["error": "\(error)"])
            }
            if ContinuousClock.now >= nextReconciliation {
                nextReconciliation = .now + reconcileInterval
                do {
                    if let summary = try await runner.reconcile() { logger.info("reconciled", metadata: ["summary": "\(summary)"]) }
                } catch {
                    logger.warning("could not reconcile", metadata: ["error": "\(error)"])
                }
            }
            if claimed == 0 {
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
            }
        }
        logger.info("worker stopped", metadata: ["worker": "\(runner.workerID)"])
    }
}

/// A worker's parts: its own connection pool, the job loop, its runner (which the time-travel
/// clock drives) and the event dispatcher, with the HTTP client webhooks go out on.
struct WorkerParts {
    let client: PostgresClient
    let jobs: WorkerService
    let runner: JobRunner
    let dispatcher: EventDispatcher
    let webhookClient: HTTPClient

    /// The services a `ServiceGroup` runs; the job loop ending (SIGTERM) ends the group.
    var services: [ServiceGroupConfiguration.ServiceConfiguration] {
        [.init(service: client), .init(service: jobs, successTerminationBehavior: .gracefullyShutdownGroup), .init(service: dispatcher)]
    }

    /// Once the group has stopped.
    func shutdown() async {
        try? await webhookClient.shutdown()
    }
}

extension Settings {
    /// The worker's own connection pool (so its batches never take the API's connections), its
    /// job loop and its event dispatcher. Its database calls wait for a connection as long as a
    /// batch needs, not the API's two seconds.
    func worker(services makeServices: (Database) -> BillingServices, logger: Logger) async throws -> WorkerParts {
        let client = PostgresClient(configuration: try databaseConfiguration(), backgroundLogger: logger)
        let services = makeServices(Database(client: client, logger: logger, leaseTimeout: .seconds(60)))
        let lease = try duration("MOVIX_WORKER_LEASE", default: .seconds(300))
        let pollInterval = try duration("MOVIX_WORKER_POLL_INTERVAL", default: .seconds(1))
        let runner = JobRunner(
            services: services, lease: Double(lease.wholeMilliseconds) / 1000,
            batchSize: try positiveInteger("MOVIX_WORKER_BATCH_SIZE", default: 32)
        )
        let jobs = WorkerService(
            runner: runner, pollInterval: pollInterval,
            reconcileInterval: try duration("MOVIX_RECONCILE_INTERVAL", default: .seconds(60)),
            logger: logger
        )
        var dispatch = EventDispatcher.Settings()
        dispatch.lease = Double(lease.wholeMilliseconds) / 1000
        dispatch.pollInterval = pollInterval
        dispatch.webhookConcurrency = try positiveInteger("MOVIX_WEBHOOK_CONCURRENCY", default: dispatch.webhookConcurrency)
        let webhookClient = EventDispatcher.makeHTTPClient()
        let dispatcher = EventDispatcher(
            services: services, composer: try await EmailComposer(services: services), transport: try emailTransport(logger: logger),
            httpClient: webhookClient, settings: dispatch, logger: logger
        )
        return WorkerParts(client: client, jobs: jobs, runner: runner, dispatcher: dispatcher, webhookClient: webhookClient)
    }

    /// The worker `dev` and `serve --with-worker` run beside the API, on the API's clock.
    func worker(beside server: ServerConfiguration, clock: BillingClock, logger: Logger) async throws -> WorkerParts {
        try await worker(services: { database in
            makeBillingServices(
                cloudPayments: server.cloudPayments, database: database, httpClient: .shared, clock: clock,
                refundPolicy: server.refundPolicy, renewalTerms: server.renewalTerms, logger: logger
            )
        }, logger: logger)
    }
}

extension Settings {
    /// `MOVIX_SMTP_URL` and `MOVIX_MAIL_FROM`; nil without a URL (email then waits, queued).
    func emailTransport(logger: Logger) throws -> (any EmailTransport)? {
        guard let url = optional("MOVIX_SMTP_URL") else { return nil }
        do {
            return try SMTPTransport(url: url, from: try string("MOVIX_MAIL_FROM", default: "Movix <billing@localhost>"), logger: logger)
        } catch {
            throw SettingError(name: "MOVIX_SMTP_URL", problem: "\(error)")
        }
    }
}
