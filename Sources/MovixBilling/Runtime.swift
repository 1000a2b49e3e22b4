import Foundation
import Logging
import Metrics
import PostgresNIO
import Prometheus
import Storage

/// Process-wide set-up shared by the subcommands.
enum Runtime {
    /// Logs to stdout at `MOVIX_LOG_LEVEL` (default info); metrics to a Prometheus registry.
    static func bootstrap(settings: Settings) -> (Logger, PrometheusCollectorRegistry) {
        let level = settings.optional("MOVIX_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return (Logger(label: "movix-billing"), registry)
    }
}

/// Writes a line to stdout at once; `print` would sit in a buffer when stdout is a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Prints a start-up failure the way a person can act on it, and exits non-zero.
func exitWithConfigurationError(_ error: any Error) -> Never {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(78) // EX_CONFIG
}

/// Refuses to start on a database that lacks some of this build's migrations.
func requireMigrated(_ configuration: PostgresClient.Configuration, logger: Logger) async throws {
    let pending = try await Database.withConnected(configuration, logger: logger) { try await Migrator(database: $0).pending() }
    guard pending.isEmpty else {
        exitWithConfigurationError(SettingError(
            name: "DATABASE_URL", problem: "points at a database without migrations \(pending.map(String.init).joined(separator: ", ")); run `movix-billing migrate` first"
        ))
    }
}
