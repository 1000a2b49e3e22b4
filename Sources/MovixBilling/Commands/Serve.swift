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

        let pending = try await Database.withConnected(databaseConfiguration, logger: logger) { try await Migrator(database: $0).pending() }
        guard pending.isEmpty else {
            exitWithConfigurationError(SettingError(
                name: "DATABASE_URL", problem: "points at a database without migrations \(pending.map(String.init).joined(separator: ", ")); run `movix-billing migrate` first"
            ))
        }

        let (client, database) = serving.connect(logger: logger)
        let app = try await buildApplication(
            configuration: server, database: database,
            httpClient: .shared, metricsRegistry: registry, clock: clockControl?.billingClock ?? .system, clockControl: clockControl, logger: logger
        )
        let services = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await services.run()
    }
}

