import Foundation
import PostgresNIO

/// Writes the two records every state change leaves in its transaction: the history row in
/// `state_transitions` and, when others must hear of it, an event in `outbox_events`.
public struct HistoryRepository: Sendable {
    public init() {}

    public func recordTransition(entity: String, id: UUID, from: String?, to: String, event: String, actor: String, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO state_transitions (entity, entity_id, from_state, to_state, event, actor)
            VALUES (\(entity), \(id), \(from), \(to), \(event), \(actor))
            """, logger: connection.logger)
    }

    /// Queues an event for delivery; `payload` is a JSON object.
    public func enqueueEvent(type: String, aggregateID: UUID, payload: String, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO outbox_events (type, aggregate_id, payload) VALUES (\(type), \(aggregateID), \(payload)::jsonb)
            """, logger: connection.logger)
    }
}
