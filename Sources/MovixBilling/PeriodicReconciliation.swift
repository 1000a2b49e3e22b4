import Billing
import Logging
import ServiceLifecycle

/// Runs reconciliation every `interval` until shutdown: what `dev` does until the worker exists.
struct PeriodicReconciliation: Service {
    let reconciliation: Reconciliation
    let interval: Duration
    let logger: Logger

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: interval)
                    let summary = await reconciliation.run()
                    logger.info("reconciled", metadata: ["summary": "\(summary)"])
                }
            }
        } catch is CancellationError {
            // Shutdown: nothing held that needs releasing; an unfinished run is simply run again.
        }
    }
}
