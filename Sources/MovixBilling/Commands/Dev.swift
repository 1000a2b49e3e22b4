import ArgumentParser
import Billing
import Foundation
import Hummingbird
import LocalPostgres
import PostgresNIO
import SandboxAcquirer
import Server
import ServiceLifecycle
import Storage

/// `movix-billing dev`: everything a person needs to try Movix Billing on this machine.
struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run everything locally: PostgreSQL (when DATABASE_URL is unset), migrations, the sandbox acquirer and the API."
    )

    /// Fixed, so the printed token and a bookmarked demo page survive restarts.
    static let demoUserID = UUID(uuidString: "d3e0a1b2-0000-4000-8000-000000000001")!

    func run() async throws {
        var environment = ProcessInfo.processInfo.environment
        let bootstrapSettings = Settings(environment: environment)
        let sandboxPort = try bootstrapSettings.port("MOVIX_SANDBOX_PORT", default: 8090)
        let developmentDefaults = [
            "MOVIX_JWT_SECRET": DevelopmentDefaults.jwtSecret,
            "MOVIX_INTERNAL_TOKEN": DevelopmentDefaults.internalToken,
            "MOVIX_CLOUDPAYMENTS_PUBLIC_ID": DevelopmentDefaults.publicID,
            "MOVIX_CLOUDPAYMENTS_API_SECRET": DevelopmentDefaults.apiSecret,
            "MOVIX_CLOUDPAYMENTS_API_URL": "http://127.0.0.1:\(sandboxPort)",
            "MOVIX_CLOUDPAYMENTS_WIDGET_URL": "http://127.0.0.1:\(sandboxPort)/widget.js",
        ]
        for (name, value) in developmentDefaults where environment[name]?.isEmpty ?? true {
            environment[name] = value
        }

        let mailSink = environment["MOVIX_SMTP_URL"]?.isEmpty ?? true ? DevMailSink.start(
            port: try bootstrapSettings.port("MOVIX_DEV_SMTP_PORT", default: 2525),
            directory: (bootstrapSettings.optional("MOVIX_DATA_DIR") ?? ".data") + "/mail"
        ) : nil
        if let mailSink { environment["MOVIX_SMTP_URL"] = mailSink.url }
        let mailLine = mailSink.map { "\($0.directory)/*.eml (SMTP sink on port \($0.port)); the demo page links the last one" }
            ?? (environment["MOVIX_SMTP_URL"]?.isEmpty ?? true ? "queued, not sent (no MOVIX_SMTP_URL)" : "sent through MOVIX_SMTP_URL")
        if environment["MOVIX_MAIL_FROM"]?.isEmpty ?? true { environment["MOVIX_MAIL_FROM"] = "Movix <billing@movix.test>" }
        defer { mailSink?.stop() }

        var cluster: LocalPostgresCluster?
        if environment["DATABASE_URL"]?.isEmpty ?? true {
            let dataDirectory = bootstrapSettings.optional("MOVIX_DATA_DIR") ?? ".data"
            let local = LocalPostgresCluster(
                dataDirectory: dataDirectory + "/postgres",
                port: try bootstrapSettings.port("MOVIX_DEV_POSTGRES_PORT", default: 25432)
            )
            say("Starting PostgreSQL in \(local.dataDirectory) on port \(local.port)...")
            try local.start()
            try local.createDatabase(DevelopmentDefaults.databaseName)
            environment["DATABASE_URL"] = local.url(database: DevelopmentDefaults.databaseName)
            cluster = local
        }
        defer {
            if let cluster {
                say("Stopping PostgreSQL...")
                try? cluster.stop()
            }
        }

        let settings = Settings(environment: environment)
        let (logger, registry) = Runtime.bootstrap(settings: settings)
        let server: ServerConfiguration
        let sandbox: SandboxConfiguration
        let databaseConfiguration: PostgresClient.Configuration
        let serving: ServingDatabase
        let clockControl: OffsetClock?
        do {
            server = try settings.serverConfiguration(demoUserID: Self.demoUserID)
            clockControl = try settings.clock(default: "offset")
            sandbox = try settings.sandboxConfiguration()
            databaseConfiguration = try settings.databaseConfiguration()
            serving = try settings.servingDatabase()
        } catch {
            // exit() skips the defers above: what this run started must not outlive it.
            try? cluster?.stop()
            mailSink?.stop()
            exitWithConfigurationError(error)
        }

        _ = try await Database.withConnected(databaseConfiguration, logger: logger) { try await Migrator(database: $0).migrate() }

        let token = try await DevelopmentTokens.mint(user: Self.demoUserID, email: "demo@movix.test", secret: environment["MOVIX_JWT_SECRET"]!, lifetime: 30 * 24 * 3600)
        let (client, database) = serving.connect(logger: logger)
        let clock = clockControl?.billingClock ?? .system
        let worker = try await settings.worker(beside: server, clock: clock, logger: logger)
        let api = try await buildApplication(
            configuration: server, database: database,
            httpClient: .shared, metricsRegistry: registry, clock: clock, clockControl: clockControl,
            onClockAdvance: { await worker.runner.runWhatBecameDue() }, logger: logger,
            onServerRunning: { Self.printBanner(server: server, sandboxPort: sandbox.port, token: token, mail: mailLine) }
        )
        let services = ServiceGroup(configuration: .init(
            services: [.init(service: client), .init(service: buildSandboxApplication(configuration: sandbox, logger: logger)), .init(service: api)] + worker.services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await services.run()
        await worker.shutdown()
    }

    private static func printBanner(server: ServerConfiguration, sandboxPort: Int, token: String, mail: String) {
        say("""

            Movix Billing is running (development mode). Ctrl-C stops everything.

              Buy a subscription:  \(server.publicURL)/demo
              API:                 \(server.publicURL)/v1/plans
              OpenAPI:             \(server.publicURL)/openapi.yaml
              Sandbox acquirer:    http://127.0.0.1:\(sandboxPort)
              Mail sent:           \(mail)
              Demo user:           \(demoUserID.uuidString.lowercased())
              Demo token:          \(token)

              curl -H "Authorization: Bearer \(token)" \(server.publicURL)/v1/plans
              Test card: 4242 4242 4242 4242, any future date, any CVV (3-D Secure: press Confirm).

            """)
    }
}
