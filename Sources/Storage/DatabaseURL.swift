import BillingCore
import Foundation
import PostgresNIO

/// Reads `postgres://user:password@host:port/database?sslmode=...` into a client configuration.
public enum DatabaseURL {
    /// What is wrong with a database URL.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// `statementTimeout`: PostgreSQL cancels a statement that runs longer (nil: no limit, as for
    /// migrations). `connectTimeout`: how long opening one connection may take.
    public static func configuration(
        from text: String, poolSize: Int = 8, statementTimeout: Duration? = nil, connectTimeout: Duration = .seconds(10)
    ) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""),
              let host = url.host, !host.isEmpty
        else { throw Invalid(description: "expected postgres://user[:password]@host[:port]/database") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw Invalid(description: "the database name is missing from the path") }
        let sslMode = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case "disable": tls = .disable
        case "require", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw Invalid(description: "sslmode \(sslMode) is not supported (use disable or require)")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: url.user ?? "postgres",
            password: url.password, database: database, tls: tls
        )
        configuration.options.maximumConnections = poolSize
        configuration.options.connectTimeout = connectTimeout
        if let statementTimeout {
            configuration.options.additionalStartupParameters = [("statement_timeout", "\(statementTimeout.wholeMilliseconds)")]
        }
        return configuration
    }
}
