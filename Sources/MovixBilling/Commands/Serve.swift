import ArgumentParser
import AsyncHTTPClient
import Billing
import Hummingbird
import PostgresNIO
import Server
import ServiceLifecycle
import Storage

/// `movix-billing serve`: the HTTP API against an existing, migrated database.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP API.")

    @Flag(help: "Also run a worker (renewals, dunning, expiry, reconciliation) in this process, on its clock.")
    var withWorker = false

    func run() async throws {
        let settings = Settings()
        let (logger, registry) = Runtime.bootstrap(settings: settings)
        let server: ServerConfiguration
        let databaseConfiguration: PostgresClient.Configuration
        let serving: ServingDatabase
        let clockControl: OffsetClock?
        do {
            server = try settings.serverConfiguration()
            clockControl = try settings.clock(default: "system")
            databaseConfiguration = try settings.databaseConfiguration()
            serving = try settings.servingDatabase()
        } catch { exitWithConfigurationError(error) }

        try await requireMigrated(databaseConfiguration, logger: logger)

        let clock = clockControl?.billingClock ?? .system
        let inProcessWorker: (PostgresClient, WorkerService, JobRunner)?
        do {
            inProcessWorker = withWorker ? try settings.worker(beside: server, clock: clock, logger: logger) : nil
        } catch { exitWithConfigurationError(error) }

        let (client, database) = serving.connect(logger: logger)
        let app = try await buildApplication(
            configuration: server, database: database,
            httpClient: .shared, metricsRegistry: registry, clock: clock, clockControl: clockControl,
            onClockAdvance: { await inProcessWorker?.2.runWhatBecameDue() }, logger: logger
        )
        let workerServices: [ServiceGroupConfiguration.ServiceConfiguration] = inProcessWorker.map { [.init(service: $0.0), .init(service: $0.1)] } ?? []
        let services = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: app)] + workerServices,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await services.run()
    }
}

