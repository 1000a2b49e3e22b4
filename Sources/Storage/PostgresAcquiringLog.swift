import BillingCore
import PostgresNIO

/// Writes every acquirer request and notification to `acquiring_log`.
public struct PostgresAcquiringLog: AcquiringLog {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: AcquiringLogEntry) async {
        do {
            var journal = Journal()
            journal.log(entry)
            try await database.read { try await JournalRepository().write(journal, on: $0) }
        } catch {
            // Losing a log row must not lose the payment it describes; the process log keeps a trace.
            database.logger.error("could not write acquiring_log", metadata: ["operation": "\(entry.operation)", "error": "\(String(reflecting: error))"])
        }
    }
}
