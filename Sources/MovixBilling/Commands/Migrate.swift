import ArgumentParser
import PostgresNIO
import Storage

/// `movix-billing migrate`: applies pending migrations, safely from several processes at once.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply database migrations (under an advisory lock).")

    func run() async throws {
        let settings = Settings()
        let (logger, _) = Runtime.bootstrap(settings: settings)
        let database: PostgresClient.Configuration
        do { database = try settings.databaseConfiguration() } catch { exitWithConfigurationError(error) }
        let applied = try await Database.withConnected(database, logger: logger) { try await Migrator(database: $0).migrate() }
        say(applied.isEmpty ? "Database is up to date." : "Applied migrations: \(applied.map(String.init).joined(separator: ", ")).")
    }
}
