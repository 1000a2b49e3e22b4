import BillingCore
import Foundation
import PostgresNIO

/// Keeps the Movix users billing knows about.
public struct CustomerRepository: Sendable {
    public init() {}

    /// Creates the customer on first contact; a newly given email or language replaces the old one.
    public func upsert(userID: UUID, email: String?, language: Language?, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO customers (user_id, email, language) VALUES (\(userID), \(email), \(language?.rawValue ?? Language.ru.rawValue))
            ON CONFLICT (user_id) DO UPDATE
            SET email = COALESCE(EXCLUDED.email, customers.email),
                language = CASE WHEN \(language?.rawValue)::text IS NULL THEN customers.language ELSE EXCLUDED.language END,
                updated_at = now()
            """, logger: connection.logger)
    }

    /// Where and in which language to write to a viewer; nil when billing has no email for them.
    public func contact(userID: UUID, on connection: PostgresConnection) async throws -> (email: String, language: Language)? {
        for try await (email, language) in try await connection.query(
            "SELECT email, language FROM customers WHERE user_id = \(userID) AND email IS NOT NULL", logger: connection.logger
        ).decode((String, String).self) {
            guard let known = Language(rawValue: language) else { throw UnknownDatabaseValue(column: "customers.language", value: language) }
            return (email, known)
        }
        return nil
    }

    public func email(userID: UUID, on connection: PostgresConnection) async throws -> String? {
        for try await email in try await connection.query(
            "SELECT email FROM customers WHERE user_id = \(userID)", logger: connection.logger
        ).decode(String?.self) {
            return email
        }
        return nil
    }
}
