import Acquiring
import ArgumentParser
import AsyncHTTPClient
import Billing
import PostgresNIO
import Server
import Storage

/// `movix-billing reconcile`: asks the acquirer about everything still open and settles it.
struct Reconcile: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Settle attempts, invoices and refunds left open (asking the acquirer), and expire lapsed subscriptions."
    )

    @Option(help: "Ask about what has been open for at least this many seconds.")
    var graceSeconds: Int = 300

    func run() async throws {
        let settings = Settings()
        let (logger, _) = Runtime.bootstrap(settings: settings)
        let cloudPayments: CloudPaymentsConfiguration
        let database: PostgresClient.Configuration
        do {
            cloudPayments = try settings.cloudPaymentsConfiguration()
            database = try settings.databaseConfiguration()
        } catch { exitWithConfigurationError(error) }
        let summary = try await Database.withConnected(database, logger: logger) { database in
            let services = makeBillingServices(cloudPayments: cloudPayments, database: database, httpClient: .shared, logger: logger)
            return await Reconciliation(services: services, grace: Double(graceSeconds)).run()
        }
        say("Reconciled: \(summary).")
        if summary.errors > 0 { throw ExitCode(1) }
    }
}
