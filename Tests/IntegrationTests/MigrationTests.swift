import Storage
import Testing

@Suite("Migrations")
struct MigrationTests {
    @Test("several processes migrating at once apply each migration exactly once")
    func concurrentMigrations() async throws {
        try await withTestDatabase { database in
            // Start from an empty schema, as a new database would be, then migrate from four pools at once.
            try await database.client.query("DROP SCHEMA public CASCADE", logger: testLogger)
            try await database.client.query("CREATE SCHEMA public", logger: testLogger)
            #expect(try await Migrator(database: database).pending() == Migrator.bundledMigrations().map(\.version))
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 { group.addTask { try await Migrator(database: database).migrate() } }
                return try await group.reduce(into: [[Int]]()) { $0.append($1) }
            }
            let bundled = try Migrator.bundledMigrations().map(\.version)
            #expect(applied.flatMap { $0 }.sorted() == bundled)
            #expect(try await database.count("SELECT count(*)::int FROM schema_migrations") == bundled.count)
            #expect(try await database.count("SELECT count(*)::int FROM plans") == 4)
            #expect(try await Migrator(database: database).migrate().isEmpty)
            #expect(try await Migrator(database: database).pending().isEmpty)
        }
    }
}
