import ArgumentParser
import Billing
import PostgresNIO
import Server
import ServiceLifecycle
import Storage

/// `movix-billing worker`: runs renewals, dunning retries, expiry and reconciliation. Any number
/// of workers, on any number of machines, share one database.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run scheduled jobs (renewals, dunning retries, expiry) and reconciliation until SIGTERM."
    )

    func run() async throws {
        let settings = Settings()
        let (logger, _) = Runtime.bootstrap(settings: settings)
        let databaseConfiguration: PostgresClient.Configuration
        let client: PostgresClient
        let worker: WorkerService
        do {
            databaseConfiguration = try settings.databaseConfiguration()
            let cloudPayments = try settings.cloudPaymentsConfiguration()
            let refundPolicy = try settings.refundPolicy()
            let renewalTerms = try settings.renewalTerms()
            // Time travel needs the clock of the process that serves the advance endpoint:
            // `serve --with-worker` or `dev`. A worker of its own keeps the system clock.
            (client, worker, _) = try settings.worker(services: { database in
                makeBillingServices(cloudPayments: cloudPayments, database: database, httpClient: .shared, refundPolicy: refundPolicy, renewalTerms: renewalTerms, logger: logger)
            }, logger: logger)
        } catch { exitWithConfigurationError(error) }
        try await requireMigrated(databaseConfiguration, logger: logger)

        try await ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: worker, successTerminationBehavior: .gracefullyShutdownGroup)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )).run()
    }
}
