import Billing
import BillingCore
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

extension Settings {
    /// The worker's own connection pool (so its batches never take the API's connections) and
    /// its loop. Its database calls wait for a connection as long as a batch needs, not the
    /// API's two seconds.
    func worker(services makeServices: (Database) -> BillingServices, logger: Logger) throws -> (PostgresClient, WorkerService, JobRunner) {
        let client = PostgresClient(configuration: try databaseConfiguration(), backgroundLogger: logger)
        let services = makeServices(Database(client: client, logger: logger, leaseTimeout: .seconds(60)))
        let lease = try duration("MOVIX_WORKER_LEASE", default: .seconds(300))
        let runner = JobRunner(
            services: services, lease: Double(lease.wholeMilliseconds) / 1000,
            batchSize: try positiveInteger("MOVIX_WORKER_BATCH_SIZE", default: 32)
        )
        let worker = WorkerService(
            runner: runner,
            pollInterval: try duration("MOVIX_WORKER_POLL_INTERVAL", default: .seconds(1)),
            reconcileInterval: try duration("MOVIX_RECONCILE_INTERVAL", default: .seconds(60)),
            logger: logger
        )
        return (client, worker, runner)
    }

    /// The worker `dev` and `serve --with-worker` run beside the API, on the API's clock.
    func worker(beside server: ServerConfiguration, clock: BillingClock, logger: Logger) throws -> (PostgresClient, WorkerService, JobRunner) {
        try worker(services: { database in
            makeBillingServices(
                cloudPayments: server.cloudPayments, database: database, httpClient: .shared, clock: clock,
                refundPolicy: server.refundPolicy, renewalTerms: server.renewalTerms, logger: logger
            )
        }, logger: logger)
    }
}
