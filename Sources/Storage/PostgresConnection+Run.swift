import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs a statement whose rows nobody reads, to its very end. PostgreSQL may report an error
    /// after the first row (a data-modifying CTE fails when the statement ends, a lock wait is
    /// cancelled by statement_timeout), and a statement left unread loses that error: the
    /// transaction's COMMIT then quietly rolls back while the caller reports success.
    public func run(_ query: PostgresQuery, logger: Logger) async throws {
        try checkOpen()
        for try await _ in try await self.query(query, logger: logger) {}
    }

    /// The first row of a statement that writes, after running it to its end, for the same reason.
    public func firstRow(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRow? {
        try checkOpen()
        var first: PostgresRow?
        for try await row in try await self.query(query, logger: logger) where first == nil {
            first = row
        }
        return first
    }

    /// Throws when the connection has closed. PostgresNIO 1.33 writes a query to a closed channel
    /// without failing it, so the query waits forever; that happens to a connection PostgreSQL
    /// terminated (a restart) before the pool noticed, which the pool may still hand out.
    func checkOpen() throws {
        guard !isClosed else { throw DatabaseUnavailable("the database connection has closed") }
    }
}
