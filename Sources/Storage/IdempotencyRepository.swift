import Foundation
import PostgresNIO

/// A response stored under an `Idempotency-Key`, replayed when the same request comes again.
public struct StoredResponse: Sendable, Equatable {
    public var requestHash: String
    public var status: Int
    public var body: String

    public init(requestHash: String, status: Int, body: String) {
        self.requestHash = requestHash
        self.status = status
        self.body = body
    }
}

/// Idempotency keys, per user.
public struct IdempotencyRepository: Sendable {
    public init() {}

    /// Serialises requests that carry the same key: the second waits for the first to commit.
    public func lockKey(userID: UUID, key: String, on connection: PostgresConnection) async throws {
        try await connection.run(
            "SELECT pg_advisory_xact_lock(hashtextextended(\(userID.uuidString + "/" + key), 0))", logger: connection.logger
        )
    }

    public func find(userID: UUID, key: String, on connection: PostgresConnection) async throws -> StoredResponse? {
        let rows = try await connection.query(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE user_id = \(userID) AND key = \(key)",
            logger: connection.logger
        )
        for try await (hash, status, body) in rows.decode((String, Int, String).self) {
            return StoredResponse(requestHash: hash, status: status, body: body)
        }
        return nil
    }

    public func save(userID: UUID, key: String, response: StoredResponse, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO idempotency_keys (user_id, key, request_hash, response_status, response_body)
            VALUES (\(userID), \(key), \(response.requestHash), \(response.status), \(response.body))
            """, logger: connection.logger)
    }
}
