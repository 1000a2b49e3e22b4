import ArgumentParser
import Billing
import PostgresNIO
import Storage

/// `movix-billing audit`: checks that the books balance and prints every breach.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the books: paid invoices, unmatched money refunded, refunds within payments, access covered. Exit 1 on a breach."
    )

    func run() async throws {
        let settings = Settings()
        let (logger, _) = Runtime.bootstrap(settings: settings)
        let database: PostgresClient.Configuration
        do { database = try settings.databaseConfiguration() } catch { exitWithConfigurationError(error) }
        let breaches = try await Database.withConnected(database, logger: logger) { try await Billing.Audit(database: $0).run() }
        guard !breaches.isEmpty else {
            say("The books balance: no breach found.")
            return
        }
        for breach in breaches {
            say("BREACH \(breach.rule): \(breach.entity) \(breach.id.uuidString.lowercased()): \(breach.detail)")
        }
        say("\(breaches.count) breach(es) found.")
        throw ExitCode(1)
    }
}
