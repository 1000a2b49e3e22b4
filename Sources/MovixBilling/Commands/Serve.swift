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
        let inProcessWorker: WorkerParts?
        do {
            inProcessWorker = withWorker ? try await settings.worker(beside: server, clock: clock, logger: logger) : nil
        } catch { exitWithConfigurationError(error) }

        let (client, database) = serving.connect(logger: logger)
        let app = try await buildApplication(
            configuration: server, database: database,
            httpClient: .shared, metricsRegistry: registry, clock: clock, clockControl: clockControl,
            onClockAdvance: { await inProcessWorker?.runner.runWhatBecameDue() }, logger: logger
        )
        let services = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: app)] + (inProcessWorker?.services ?? []),
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await services.run()
        await inProcessWorker?.shutdown()
    }
}

