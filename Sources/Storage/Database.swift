import Logging
import PostgresNIO
import Synchronization

/// The billing database: a connection pool plus the transaction discipline every write follows.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// How long a caller waits for a pooled connection before the database counts as unavailable.
    /// The pool itself would wait for as long as the database is away, and a request applied
    /// minutes later, after its client gave up, is worse than a quick 503.
    public let leaseTimeout: Duration

    public init(client: PostgresClient, logger: Logger, leaseTimeout: Duration = .seconds(2)) {
        self.client = client
        self.logger = logger
        self.leaseTimeout = leaseTimeout
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
        try await leased(within: leaseTimeout) { connection in
            try await connection.run("BEGIN", logger: logger)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                // A connection that cannot roll back must not go back to the pool mid-transaction.
                do { try await connection.run("ROLLBACK", logger: logger) } catch { try? await connection.close() }
                throw error
            }
            try await connection.run("COMMIT", logger: logger)
            return result
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
        try await leased(within: leaseTimeout, body)
    }

    /// Whether the database answers within `timeout`: the readiness probe.
    public func ping(within timeout: Duration) async -> Bool {
        (try? await leased(within: timeout) { connection in try await connection.run("SELECT 1", logger: logger) }) != nil
    }

    /// Runs `body` on a pooled connection, unless none came within `timeout`: then the wait is
    /// cancelled and `DatabaseUnavailable` thrown. A body that has begun is never cut short
    /// (PostgreSQL's statement_timeout bounds it), so a caller told "unavailable" knows that
    /// nothing of its work ran. Connection failures surface as `DatabaseUnavailable` too, other
    /// errors as they are.
    private func leased<Result: Sendable>(within timeout: Duration, _ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        let lease = Lease()
        do {
            // The body runs in a child task so that the timer can cancel its wait for a connection;
            // this function awaits that task before it returns, so `body` never outlives the call.
            return try await withoutActuallyEscaping(body) { body in
                let body = UncheckedSendableBody(run: body)
                return try await withThrowingTaskGroup(of: Result?.self) { group in
                    group.addTask {
                        try await client.withConnection { connection in
                            try lease.begin(on: connection)
                            return try await body.run(connection)
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: timeout)
                        if lease.expire() { throw DatabaseUnavailable("no database connection within \(timeout)") }
                        return nil
                    }
                    // The timer either throws or yields nil once the body has begun; the body's result follows.
                    while let result = try await group.next() {
                        if let result {
                            group.cancelAll()
                            return result
                        }
                    }
                    preconditionFailure("the body's task always yields a result or throws")
                }
            }
        } catch {
            // A caller cancelled while waiting (a request timeout): the pool says so in its own
            // error type; the caller should see a cancellation, as nothing of the body ran.
            if Task.isCancelled && !lease.hasBegun { throw CancellationError() }
            throw DatabaseUnavailable.classify(error) ?? error
        }
    }
}

/// A wait for a connection that either begins work or expires, never both.
private final class Lease: Sendable {
    private enum State { case waiting, begun, expired }
    private let state = Mutex(State.waiting)

    /// Called with a connection in hand; throws when the caller was already told the database is
    /// away, or when the pool handed out a connection that has closed (see `checkOpen`).
    func begin(on connection: PostgresConnection) throws {
        try connection.checkOpen()
        let begun = state.withLock { state in
            guard case .waiting = state else { return false }
            state = .begun
            return true
        }
        guard begun else { throw DatabaseUnavailable("the connection came after the lease timeout") }
    }

    /// Whether a body has begun on a connection.
    var hasBegun: Bool {
        state.withLock { state in
            guard case .begun = state else { return false }
            return true
        }
    }

    /// Whether the wait expired now, before any work began.
    func expire() -> Bool {
        state.withLock { state in
            guard case .waiting = state else { return false }
            state = .expired
            return true
        }
    }
}

/// The body of `leased(within:_:)`, carried into its child task. Sound because the parent awaits
/// that task before returning and never calls the body itself.
private struct UncheckedSendableBody<Result>: @unchecked Sendable {
    let run: (PostgresConnection) async throws -> Result
}

/// A statement that must return a row returned none.
public struct PostgresRowMissing: Error, CustomStringConvertible {
    public var query: String
    public var description: String { "\(query) returned no row" }
}
