import Foundation
import PostgresNIO

/// Keeps the Movix users billing knows about.
public struct CustomerRepository: Sendable {
    public init() {}

    /// Creates the customer on first contact; a newly given email replaces the old one.
    public func upsert(userID: UUID, email: String?, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO customers (user_id, email) VALUES (\(userID), \(email))
            ON CONFLICT (user_id) DO UPDATE
            SET email = COALESCE(EXCLUDED.email, customers.email), updated_at = now()
            """, logger: connection.logger)
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
