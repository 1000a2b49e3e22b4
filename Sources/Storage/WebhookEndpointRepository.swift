import BillingCore
import Foundation
import PostgresNIO

/// The registered receivers of webhooks.
public struct WebhookEndpointRepository: Sendable {
    public init() {}

    public func insert(_ endpoint: WebhookEndpoint, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO webhook_endpoints (id, url, event_types, secret, description, created_at)
            VALUES (\(endpoint.id), \(endpoint.url.absoluteString), \(endpoint.eventTypes), \(endpoint.secret), \(endpoint.description), \(endpoint.createdAt))
            """, logger: connection.logger)
    }

    /// Endpoints not deleted, oldest first.
    public func list(on connection: PostgresConnection) async throws -> [WebhookEndpoint] {
        try await decode(connection.query("SELECT \(unescaped: Self.columns) FROM webhook_endpoints WHERE deleted_at IS NULL ORDER BY created_at, id", logger: connection.logger))
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> WebhookEndpoint? {
        try await decode(connection.query("SELECT \(unescaped: Self.columns) FROM webhook_endpoints WHERE id = \(id) AND deleted_at IS NULL", logger: connection.logger)).first
    }

    /// Stops deliveries to the endpoint; its messages and their attempts stay on record. Returns
    /// false when there was no such endpoint.
    public func delete(id: UUID, at now: Date, on connection: PostgresConnection) async throws -> Bool {
        var deleted = false
        for try await _ in try await connection.query(
            "UPDATE webhook_endpoints SET deleted_at = \(now) WHERE id = \(id) AND deleted_at IS NULL RETURNING id", logger: connection.logger
        ) {
            deleted = true
        }
        return deleted
    }

    /// Delivery counts per endpoint: what the API shows beside each.
    public struct Health: Sendable {
        public var pending: Int
        public var delivered: Int
        public var lastAttemptAt: Date? = nil
        public var lastStatusCode: Int? = nil
        public var lastError: String? = nil
    }

    public func health(endpointID: UUID, on connection: PostgresConnection) async throws -> Health {
        var health = Health(pending: 0, delivered: 0)
        for try await (pending, delivered) in try await connection.query("""
            SELECT count(*) FILTER (WHERE delivered_at IS NULL)::int, count(*) FILTER (WHERE delivered_at IS NOT NULL)::int
            FROM webhook_messages WHERE endpoint_id = \(endpointID)
            """, logger: connection.logger).decode((Int, Int).self) {
            health.pending = pending
            health.delivered = delivered
        }
        for try await (at, status, error) in try await connection.query("""
            SELECT attempted_at, status_code, error FROM webhook_deliveries WHERE endpoint_id = \(endpointID)
            ORDER BY attempted_at DESC, id DESC LIMIT 1
            """, logger: connection.logger).decode((Date, Int?, String?).self) {
            health.lastAttemptAt = at
            health.lastStatusCode = status
            health.lastError = error
        }
        return health
    }

    private static let columns = "id, url, event_types, secret, description, failing_since, created_at"

    private func decode(_ rows: PostgresRowSequence) async throws -> [WebhookEndpoint] {
        var endpoints: [WebhookEndpoint] = []
        for try await (id, url, types, secret, description, failingSince, createdAt) in rows.decode((UUID, String, [String], String, String?, Date?, Date).self) {
            guard let parsed = URL(string: url) else { throw UnknownDatabaseValue(column: "webhook_endpoints.url", value: url) }
            endpoints.append(WebhookEndpoint(id: id, url: parsed, eventTypes: types, secret: secret, description: description, failingSince: failingSince, createdAt: createdAt))
        }
        return endpoints
    }
}
