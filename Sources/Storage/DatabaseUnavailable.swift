import PostgresNIO

/// The database cannot serve a request right now: no connection within the lease timeout, a
/// connection lost mid-request, the server shutting down or starting, or a statement that ran past
/// `statement_timeout`. Nothing the request asked for was committed, unless the connection was
/// lost during COMMIT itself; either way the caller may retry (our writes are idempotent).
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }

    /// The outage an error from PostgresNIO stands for, or nil when it is a bug of ours (bad SQL,
    /// a constraint) that must surface as one.
    static func classify(_ error: any Error) -> DatabaseUnavailable? {
        guard let error = error as? PSQLError else { return nil }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return DatabaseUnavailable("the database connection failed (\(error.code))")
        case .server:
            // 57014 query_canceled (statement_timeout), 57P01-57P03 shutdown and start-up,
            // 53300 too_many_connections, 08xxx connection exceptions.
            let state = error.serverInfo?[.sqlState] ?? ""
            guard ["57014", "57P01", "57P02", "57P03", "53300"].contains(state) || state.hasPrefix("08") else { return nil }
            return DatabaseUnavailable("the database refused the statement (SQLSTATE \(state))")
        default:
            return nil
        }
    }
}
