import Logging
import PostgresNIO

/// The billing database: a connection pool plus the transaction discipline every write follows.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Connects a pool for the duration of `body` (for commands and tests that are not services).
    public static func withConnected<Result: Sendable>(
        _ configuration: PostgresClient.Configuration, logger: Logger, _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        // The first query may be issued a moment before the child task below enters `run()`; the
        // pool queues it, but warns. Waiting for `run()` instead raced its cancellation and hung the
        // tests now and then, so the scoped pool's own logger only reports errors; the body's
        // errors are thrown to the caller anyway.
        var poolLogger = logger
        poolLogger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Database(client: client, logger: logger))
        }
    }

    /// Runs `body` in one transaction and rethrows the body's own error, not PostgresNIO's wrapper,
    /// so callers can catch their domain errors.
    public func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Runs `body` in one transaction and writes the journal it filled just before committing, so
    /// history, outbox events and acquirer log rows commit or roll back with the change they record.
    public func journaledTransaction<Result: Sendable>(_ body: (PostgresConnection, inout Journal) async throws -> Result) async throws -> Result {
        try await transaction { connection in
            var journal = Journal()
            let result = try await body(connection, &journal)
            try await JournalRepository().write(journal, on: connection)
            return result
        }
    }

    /// Runs reads on one pooled connection, outside a transaction.
    public func read<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in try await body(connection) }
    }

    /// Whether the database answers: the readiness probe.
    public func ping() async -> Bool {
        (try? await client.query("SELECT 1", logger: logger)) != nil
    }
}

/// A statement that must return a row returned none.
public struct PostgresRowMissing: Error, CustomStringConvertible {
    public var query: String
    public var description: String { "\(query) returned no row" }
}
