import BillingCore
import Foundation
import PostgresNIO

/// The outbox: events written by the transactions that caused them, published in order by one
/// publisher at a time, and read back by consumers paging through what they missed.
public struct OutboxRepository: Sendable {
    public init() {}

    /// Publishes up to `limit` committed events, oldest first: numbers them after the last one
    /// published and queues a webhook message for every endpoint that receives each. Returns nil
    /// when another publisher is at it (the lock is the transaction's: call this in one).
    ///
    /// One publisher at a time is what makes `sequence` an order nobody can slip in behind: two
    /// would each number their own batch, and commit in either order.
    public func publish(limit: Int, at now: Date, on connection: PostgresConnection) async throws -> [OutboxEvent]? {
        var locked = false
        for try await held in try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.publisherLock))", logger: connection.logger).decode(Bool.self) {
            locked = held
        }
        guard locked else { return nil }
        let rows = try await connection.query("""
            WITH batch AS (
                SELECT id, row_number() OVER (ORDER BY id) AS n
                FROM (SELECT id FROM outbox_events WHERE dispatched_at IS NULL ORDER BY id LIMIT \(limit)) AS oldest
            ), last AS (
                SELECT coalesce(max(sequence), 0) AS sequence FROM outbox_events
            ), published AS (
                UPDATE outbox_events e SET sequence = last.sequence + batch.n, dispatched_at = \(now)
                FROM batch, last WHERE e.id = batch.id
                RETURNING \(unescaped: Self.columns("e"))
            ), queued AS (
                INSERT INTO webhook_messages (endpoint_id, event_id, ordering_key, sequence, next_attempt_at)
                SELECT w.id, p.id, p.ordering_key, p.sequence, \(now)
                FROM published p
                JOIN webhook_endpoints w ON w.deleted_at IS NULL AND (p.type = ANY (w.event_types) OR '*' = ANY (w.event_types))
                ORDER BY p.sequence
            )
            SELECT * FROM published ORDER BY sequence
            """, logger: connection.logger)
        return try await Self.decode(rows)
    }

    /// Wakes every worker's delivery lanes: call in the transaction that queued work for them.
    public func announce(on connection: PostgresConnection) async throws {
        try await connection.run("SELECT pg_notify(\(JournalRepository.eventsChannel), '')", logger: connection.logger)
    }

    /// Published events after the one with id `after` (from the first when nil), in publication
    /// order; nil when `after` names no published event.
    public func list(after: UUID?, types: [EventType], limit: Int, on connection: PostgresConnection) async throws -> [OutboxEvent]? {
        var position: Int64 = 0
        if let after {
            guard let found = try await find(id: after, on: connection), let sequence = found.sequence else { return nil }
            position = sequence
        }
        let typeNames = types.map(\.rawValue)
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns("e")) FROM outbox_events e
            WHERE e.sequence > \(position) AND (cardinality(\(typeNames)::text[]) = 0 OR e.type = ANY (\(typeNames)))
            ORDER BY e.sequence LIMIT \(limit)
            """, logger: connection.logger)
        return try await Self.decode(rows)
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> OutboxEvent? {
        try await Self.decode(connection.query("SELECT \(unescaped: Self.columns("e")) FROM outbox_events e WHERE e.event_id = \(id)", logger: connection.logger)).first
    }

    /// Queues the event again for the endpoints that receive it (or only `endpointID`), due now;
    /// returns how many messages were queued. An event not yet published needs no replay; one
    /// written before delivery existed (version 0) is never sent to webhooks.
    public func replay(_ event: OutboxEvent, endpointID: UUID?, at now: Date, on connection: PostgresConnection) async throws -> Int {
        guard let sequence = event.sequence else { return 0 }
        var queued = 0
        for try await _ in try await connection.query("""
            INSERT INTO webhook_messages (endpoint_id, event_id, ordering_key, sequence, next_attempt_at)
            SELECT w.id, \(event.rowID), coalesce(\(event.subscriptionID), e.aggregate_id), \(sequence), \(now)
            FROM webhook_endpoints w, outbox_events e
            WHERE e.id = \(event.rowID) AND e.schema_version >= 1 AND w.deleted_at IS NULL AND (\(endpointID)::uuid IS NULL OR w.id = \(endpointID))
              AND (\(event.type.rawValue) = ANY (w.event_types) OR '*' = ANY (w.event_types))
            RETURNING id
            """, logger: connection.logger) {
            queued += 1
        }
        return queued
    }

    /// Events not yet published, and how long the oldest has waited: what `/metrics` reports.
    public func backlog(at now: Date, on connection: PostgresConnection) async throws -> (count: Int, oldestSeconds: Double) {
        for try await (count, oldest) in try await connection.query("""
            SELECT count(*)::int, coalesce(extract(epoch FROM \(now) - min(occurred_at)), 0)::float8
            FROM outbox_events WHERE dispatched_at IS NULL
            """, logger: connection.logger).decode((Int, Double).self) {
            return (count, max(0, oldest))
        }
        return (0, 0)
    }

    /// "movixpub"
    private static let publisherLock: Int64 = 0x6d6f_7669_7870_7562

    /// The columns `decode` reads, from the outbox table aliased `alias`.
    static func columns(_ alias: String) -> String {
        let a = alias
        return """
            \(a).id, \(a).event_id, \(a).type, \(a).schema_version, \(a).occurred_at, \(a).sequence, \(a).subscription_id, \(a).user_id, \
            \(a).payload::text AS payload, coalesce(\(a).subscription_id, \(a).aggregate_id) AS ordering_key
            """
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [OutboxEvent] {
        var events: [OutboxEvent] = []
        for try await row in rows {
            events.append(try decode(row.makeRandomAccess()))
        }
        return events
    }

    static func decode(_ row: PostgresRandomAccessRow) throws -> OutboxEvent {
        OutboxEvent(
            rowID: try row["id"].decode(Int64.self), id: try row["event_id"].decode(UUID.self), type: try row.decodeKnown("type"),
            schemaVersion: try row["schema_version"].decode(Int.self), occurredAt: try row["occurred_at"].decode(Date.self),
            sequence: try row["sequence"].decode(Int64?.self), subscriptionID: try row["subscription_id"].decode(UUID?.self),
            userID: try row["user_id"].decode(UUID?.self), data: try row["payload"].decode(String.self)
        )
    }
}
