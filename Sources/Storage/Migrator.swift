import Foundation
import Logging
import PostgresNIO

/// Applies the numbered SQL files in `Migrations/` that the database has not seen yet.
public struct Migrator: Sendable {
    /// One numbered migration file.
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    /// Arbitrary but fixed: every process that migrates takes this advisory lock first.
    static let advisoryLockKey: Int64 = 0x6D6F_7669_7862_696C

    let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The migrations shipped with this build, in order.
    public static func bundledMigrations() throws -> [Migration] {
        let paths = Bundle.module.paths(forResourcesOfType: "sql", inDirectory: "Migrations")
        return try paths.compactMap { path -> Migration? in
            let file = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            guard let prefix = file.split(separator: "_").first, let version = Int(prefix) else { return nil }
            return Migration(version: version, name: file, sql: try String(contentsOfFile: path, encoding: .utf8))
        }.sorted { $0.version < $1.version }
    }

    /// The shipped migrations this database has not applied, so a server can refuse to start on an
    /// old schema instead of failing request by request.
    public func pending(_ migrations: [Migration]? = nil) async throws -> [Int] {
        let shipped = try (migrations ?? Self.bundledMigrations()).map(\.version)
        let exists = try await database.read { connection -> Bool in
            for try await found in try await connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: database.logger).decode(Bool.self) {
                return found
            }
            return false
        }
        guard exists else { return shipped }
        let applied = try await database.read { connection -> Set<Int> in
            var versions = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: database.logger).decode(Int.self) {
                versions.insert(version)
            }
            return versions
        }
        return shipped.filter { !applied.contains($0) }
    }

    /// Applies what is missing in one transaction under an advisory lock, so that several processes
    /// starting at once apply each migration exactly once. Returns the versions applied now.
    @discardableResult
    public func migrate(_ migrations: [Migration]? = nil) async throws -> [Int] {
        let migrations = try migrations ?? Self.bundledMigrations()
        return try await database.transaction { connection in
            try await connection.run("SELECT pg_advisory_xact_lock(\(Self.advisoryLockKey))", logger: database.logger)
            try await connection.run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: database.logger)
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: database.logger).decode(Int.self) {
                applied.insert(version)
            }
            var appliedNow: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in SQLScript.statements(in: migration.sql) {
                    try await connection.run(PostgresQuery(unsafeSQL: statement), logger: database.logger)
                }
                try await connection.run(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: database.logger
                )
                database.logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
                appliedNow.append(migration.version)
            }
            return appliedNow
        }
    }
}
