@testable import Storage
import Testing

@Suite("Migration file splitting")
struct SQLScriptTests {
    @Test("semicolons end statements, except inside quotes, dollar-quoted bodies and comments")
    func splits() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (note text DEFAULT 'x; y');
            CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql;

            INSERT INTO a VALUES ('it''s; fine')
            """
        #expect(SQLScript.statements(in: script) == [
            "CREATE TABLE a (note text DEFAULT 'x; y')",
            "CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END $body$ LANGUAGE plpgsql",
            "INSERT INTO a VALUES ('it''s; fine')",
        ])
    }

    @Test("the shipped migrations are numbered from 1 without gaps")
    func numbering() throws {
        let versions = try Migrator.bundledMigrations().map(\.version)
        #expect(versions == Array(1...versions.count))
    }
}
