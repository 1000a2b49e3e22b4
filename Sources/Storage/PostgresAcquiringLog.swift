import BillingCore
import Logging
import PostgresNIO

/// Writes every acquirer request and notification to `acquiring_log`.
public struct PostgresAcquiringLog: AcquiringLog {
    let database: Database

    public init(database: Database) {
        self.database = database
    }

    public func record(_ entry: AcquiringLogEntry) async {
        do {
            try await database.client.query(insert(entry), logger: database.logger)
        } catch {
            // Losing a log row must not lose the payment it describes; the process log keeps a trace.
            database.logger.error("could not write acquiring_log", metadata: ["operation": "\(entry.operation)", "error": "\(String(reflecting: error))"])
        }
    }

    /// The same row inside a caller's transaction, for notifications that change state.
    public func record(_ entry: AcquiringLogEntry, on connection: PostgresConnection) async throws {
        try await connection.query(insert(entry), logger: connection.logger)
    }

    private func insert(_ entry: AcquiringLogEntry) -> PostgresQuery {
        """
        INSERT INTO acquiring_log (acquirer, direction, operation, transaction_id, invoice_id, http_status, code, message, payload, duration_ms)
        VALUES (\(entry.acquirer), \(entry.direction.rawValue), \(entry.operation), \(entry.transactionID), \(entry.invoiceID),
                \(entry.httpStatus), \(entry.code), \(entry.message), \(entry.payload), \(entry.durationMilliseconds))
        """
    }
}
