import Billing
import Foundation
import LocalPostgres
import Logging
import PostgresNIO
import Storage
import Testing

/// The PostgreSQL cluster the integration tests run against: started on first use under
/// `.data/test-postgres`, one migrated template per test run, and a fresh copy of it per test.
actor TestPostgres {
    static let shared = TestPostgres()

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let templateName = "movix_test_template"
    /// Every test database's name starts so.
    static let testDatabasePrefix = "t_"

    let cluster = LocalPostgresCluster(
        dataDirectory: packageRoot + "/.data/test-postgres",
        port: Int(ProcessInfo.processInfo.environment["MOVIX_TEST_POSTGRES_PORT"] ?? "") ?? checkoutPort
    )

    /// A port of this checkout's own (21000-24999, from its path), so that two checkouts on one
    /// machine can run their tests side by side. Below Linux's ephemeral range (32768-60999): the
    /// tests open thousands of client sockets, and one in TIME_WAIT on a server's port blocks it.
    static var checkoutPort: Int {
        let hash = packageRoot.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
        return 21_000 + Int(hash % 4_000)
    }
    private var template: Task<Void, any Error>?

    /// A new database with every migration applied, for one test: its name and how to reach it.
    func freshDatabase() async throws -> (name: String, configuration: PostgresClient.Configuration) {
        if template == nil {
            template = Task { try await prepareTemplate() }
        }
        try await template!.value
        let name = Self.testDatabasePrefix + UUID().uuidString.prefix(8).lowercased()
        try cluster.createDatabase(name, template: Self.templateName)
        return (name, try DatabaseURL.configuration(from: cluster.url(database: name)))
    }

    /// Drops a test's database once it is done with it.
    nonisolated func drop(_ name: String) {
        try? cluster.dropDatabase(name)
    }

    private func prepareTemplate() async throws {
        try cluster.start()
        // A run that was killed (SIGKILL, a timeout) could not drop its tests' databases: this run,
        // the checkout's only one (it makes the template again too), drops them.
        for leftover in try cluster.databases(prefixed: Self.testDatabasePrefix) { try cluster.dropDatabase(leftover) }
        try cluster.dropDatabase(Self.templateName)
        try cluster.createDatabase(Self.templateName)
        let configuration = try DatabaseURL.configuration(from: cluster.url(database: Self.templateName))
        _ = try await Database.withConnected(configuration, logger: testLogger) { try await Migrator(database: $0).migrate() }
    }
}

let testLogger: Logger = {
    var logger = Logger(label: "tests")
    logger.logLevel = .warning
    return logger
}()

/// Runs `body` against a fresh, migrated database of its own, then checks that the books balance
/// (`movix-billing audit`'s rules) and drops the database. `audit: false` only for a test that
/// breaks the books on purpose to see the audit catch it.
func withTestDatabase<Result: Sendable>(audit: Bool = true, _ body: @Sendable (Database) async throws -> Result) async throws -> Result {
    let (name, configuration) = try await TestPostgres.shared.freshDatabase()
    defer { TestPostgres.shared.drop(name) }
    return try await Database.withConnected(configuration, logger: testLogger) { database in
        let result = try await body(database)
        if audit {
            let breaches = try await Audit(database: database).run()
            #expect(breaches.isEmpty, "the books do not balance: \(breaches)")
        }
        return result
    }
}

extension Database {
    /// A single number from a SQL query, for assertions.
    func count(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await client.query(query, logger: logger).decode(Int.self) { return value }
        return 0
    }
}
