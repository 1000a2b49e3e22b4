import ArgumentParser
import Billing
import PostgresNIO
import Server
import ServiceLifecycle
import Storage

/// `movix-billing worker`: runs renewals, dunning retries, expiry and reconciliation, and delivers
/// events (webhooks, email). Any number of workers, on any number of machines, share one database.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scheduled jobs (renewals, dunning retries, expiry), reconciliation and event delivery (webhooks, email) until SIGTERM."
    )

    func run() async throws {
        let settings = Settings()
        let (logger, _) = Runtime.bootstrap(settings: settings)
        let databaseConfiguration: PostgresClient.Configuration
        let worker: WorkerParts
        do {
            databaseConfiguration = try settings.databaseConfiguration()
            let cloudPayments = try settings.cloudPaymentsConfiguration()
            let refundPolicy = try settings.refundPolicy()
            let renewalTerms = try settings.renewalTerms()
            // Time travel needs the clock of the process that serves the advance endpoint:
            // `serve --with-worker` or `dev`. A worker of its own keeps the system clock.
            worker = try await settings.worker(services: { database in
                makeBillingServices(cloudPayments: cloudPayments, database: database, httpClient: .shared, refundPolicy: refundPolicy, renewalTerms: renewalTerms, logger: logger)
            }, logger: logger)
        } catch { exitWithConfigurationError(error) }
        try await requireMigrated(databaseConfiguration, logger: logger)

        try await ServiceGroup(configuration: .init(services: worker.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)).run()
        await worker.shutdown()
    }
}
