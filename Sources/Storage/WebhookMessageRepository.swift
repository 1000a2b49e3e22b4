import BillingCore
import Foundation
import PostgresNIO

/// Webhook messages (one event for one endpoint) and the record of every attempt to deliver them.
public struct WebhookMessageRepository: Sendable {
    public init() {}

    /// A message taken for delivery, with what it takes to send it.
    public struct Claimed: Sendable {
        public var id: Int64
        /// This delivery's number, 1 for the first.
        public var attempt: Int
        /// When the failures in a row began; nil when the last attempt (if any) succeeded.
        public var firstFailedAt: Date?
        public var endpoint: WebhookEndpoint
        public var event: OutboxEvent
    }

    /// Takes up to `limit` due messages (by `due`, the service's clock) that nobody holds,
    /// leasing them until `now + lease` (real time). Only the earliest undelivered message of a
    /// subscription to an endpoint is ever taken, so they arrive in order: a failing one holds
    /// back that subscription's later events to that endpoint, and nobody else's.
    public func claim(dueBy due: Date, now: Date, lease: TimeInterval, limit: Int, on connection: PostgresConnection) async throws -> [Claimed] {
        let rows = try await connection.query("""
            UPDATE webhook_messages m SET leased_until = \(now.addingTimeInterval(lease)), attempts = m.attempts + 1
            FROM (
                SELECT candidate.id FROM webhook_messages candidate
                JOIN webhook_endpoints w ON w.id = candidate.endpoint_id AND w.deleted_at IS NULL
                WHERE candidate.delivered_at IS NULL AND candidate.next_attempt_at <= \(due)
                  AND (candidate.leased_until IS NULL OR candidate.leased_until <= \(now))
                  AND NOT EXISTS (
                      SELECT 1 FROM webhook_messages earlier
                      WHERE earlier.endpoint_id = candidate.endpoint_id AND earlier.ordering_key = candidate.ordering_key
                        AND earlier.delivered_at IS NULL AND (earlier.sequence, earlier.id) < (candidate.sequence, candidate.id))
                ORDER BY candidate.next_attempt_at, candidate.sequence
                LIMIT \(limit)
                FOR UPDATE OF candidate SKIP LOCKED
            ) AS claimed, webhook_endpoints w, outbox_events e
            WHERE m.id = claimed.id AND w.id = m.endpoint_id AND e.id = m.event_id
            RETURNING m.id AS message_id, m.attempts, m.first_failed_at,
                      w.id AS endpoint_id, w.url, w.event_types, w.secret, w.description, w.failing_since, w.created_at,
                      \(unescaped: OutboxRepository.columns("e"))
            """, logger: connection.logger)
        var claimed: [Claimed] = []
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let url = try columns["url"].decode(String.self)
            guard let parsed = URL(string: url) else { throw UnknownDatabaseValue(column: "webhook_endpoints.url", value: url) }
            let endpoint = WebhookEndpoint(
                id: try columns["endpoint_id"].decode(UUID.self), url: parsed, eventTypes: try columns["event_types"].decode([String].self),
                secret: try columns["secret"].decode(String.self), description: try columns["description"].decode(String?.self),
                failingSince: try columns["failing_since"].decode(Date?.self), createdAt: try columns["created_at"].decode(Date.self)
            )
            claimed.append(Claimed(
                id: try columns["message_id"].decode(Int64.self), attempt: try columns["attempts"].decode(Int.self),
                firstFailedAt: try columns["first_failed_at"].decode(Date?.self), endpoint: endpoint, event: try OutboxRepository.decode(columns)
            ))
        }
        return claimed.sorted { ($0.event.sequence ?? 0, $0.id) < ($1.event.sequence ?? 0, $1.id) }
    }

    /// One attempt's outcome: the receiver's status code, or why there was none.
    public struct Attempt: Sendable {
        public var statusCode: Int?
        public var error: String?
        public var durationMilliseconds: Int
        public var at: Date

        public init(statusCode: Int?, error: String?, durationMilliseconds: Int, at: Date) {
            self.statusCode = statusCode
            self.error = error
            self.durationMilliseconds = durationMilliseconds
            self.at = at
        }
    }

    /// What became of one delivery: its attempt and, when it failed, when to try again and
    /// whether its endpoint is now failing.
    public struct Outcome: Sendable {
        public var message: Claimed
        public var attempt: Attempt
        /// Nil when delivered.
        public var retryAt: Date?
        public var failing: Bool

        public init(message: Claimed, attempt: Attempt, retryAt: Date?, failing: Bool) {
            self.message = message
            self.attempt = attempt
            self.retryAt = retryAt
            self.failing = failing
        }
    }

    /// Records outcomes in one statement (one commit for many deliveries): each attempt in
    /// `webhook_deliveries`; a delivered message done and its endpoint healthy again; a failed
    /// one due again at its retry time, its endpoint marked failing (since the first of its
    /// failures in a row) when `failing`.
    public func record(_ outcomes: [Outcome], on connection: PostgresConnection) async throws {
        guard !outcomes.isEmpty else { return }
        // Arrays of plain values (no NULL elements): 0, "" and `at` stand for "none" and are
        // turned back into NULL below.
        let ids = outcomes.map(\.message.id)
        let endpoints = outcomes.map(\.message.endpoint.id)
        let events = outcomes.map(\.message.event.rowID)
        let attempts = outcomes.map(\.message.attempt)
        let delivered = outcomes.map { $0.retryAt == nil }
        let retryAt = outcomes.map { $0.retryAt ?? $0.attempt.at }
        let firstFailed = outcomes.map { $0.message.firstFailedAt ?? $0.attempt.at }
        let failing = outcomes.map(\.failing)
        let statuses = outcomes.map { $0.attempt.statusCode ?? 0 }
        let errors = outcomes.map { $0.attempt.error ?? "" }
        let durations = outcomes.map(\.attempt.durationMilliseconds)
        let times = outcomes.map(\.attempt.at)
        try await connection.run("""
            WITH outcome AS (
                SELECT * FROM unnest(\(ids)::bigint[], \(endpoints)::uuid[], \(events)::bigint[], \(attempts)::int[], \(delivered)::bool[],
                                     \(retryAt)::timestamptz[], \(firstFailed)::timestamptz[], \(failing)::bool[], \(statuses)::int[],
                                     \(errors)::text[], \(durations)::int[], \(times)::timestamptz[])
                    AS o (id, endpoint_id, event_id, attempt, delivered, retry_at, first_failed_at, failing, status_code, error, duration_ms, at)
            ), messages AS (
                UPDATE webhook_messages m SET leased_until = NULL,
                    delivered_at = CASE WHEN o.delivered THEN o.at END,
                    next_attempt_at = CASE WHEN o.delivered THEN m.next_attempt_at ELSE o.retry_at END,
                    first_failed_at = CASE WHEN o.delivered THEN NULL ELSE o.first_failed_at END
                FROM outcome o WHERE m.id = o.id
            ), healthy AS (
                UPDATE webhook_endpoints SET failing_since = NULL
                WHERE failing_since IS NOT NULL AND id IN (SELECT endpoint_id FROM outcome WHERE delivered)
            ), marked AS (
                UPDATE webhook_endpoints w SET failing_since = o.first_failed_at
                FROM (SELECT endpoint_id, min(first_failed_at) AS first_failed_at FROM outcome WHERE failing GROUP BY endpoint_id) o
                WHERE w.id = o.endpoint_id AND w.failing_since IS NULL
            )
            INSERT INTO webhook_deliveries (message_id, endpoint_id, event_id, attempt, status_code, error, duration_ms, attempted_at)
            SELECT id, endpoint_id, event_id, attempt, nullif(status_code, 0), nullif(error, ''), duration_ms, at FROM outcome
            """, logger: connection.logger)
    }

    /// Every attempt at one event, or at all events for one endpoint, newest first.
    public struct Delivery: Sendable {
        public var messageID: Int64
        public var endpointID: UUID
        public var eventID: UUID
        public var attempt: Int
        public var statusCode: Int?
        public var error: String?
        public var durationMilliseconds: Int
        public var attemptedAt: Date
    }

    public func deliveries(endpointID: UUID?, eventID: UUID?, limit: Int, on connection: PostgresConnection) async throws -> [Delivery] {
        var deliveries: [Delivery] = []
        for try await (message, endpoint, event, attempt, status, error, duration, at) in try await connection.query("""
            SELECT d.message_id, d.endpoint_id, e.event_id, d.attempt, d.status_code, d.error, d.duration_ms, d.attempted_at
            FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
            WHERE (\(endpointID)::uuid IS NULL OR d.endpoint_id = \(endpointID)) AND (\(eventID)::uuid IS NULL OR e.event_id = \(eventID))
            ORDER BY d.attempted_at DESC, d.id DESC LIMIT \(limit)
            """, logger: connection.logger).decode((Int64, UUID, UUID, Int, Int?, String?, Int, Date).self) {
            deliveries.append(Delivery(messageID: message, endpointID: endpoint, eventID: event, attempt: attempt, statusCode: status, error: error, durationMilliseconds: duration, attemptedAt: at))
        }
        return deliveries
    }

    /// Messages not yet delivered per endpoint, and how long the oldest due one has waited: `/metrics`.
    public func backlog(at now: Date, on connection: PostgresConnection) async throws -> (pending: Int, oldestDueSeconds: Double, failingEndpoints: Int) {
        for try await (pending, oldest, failing) in try await connection.query("""
            SELECT (SELECT count(*) FROM webhook_messages m JOIN webhook_endpoints w ON w.id = m.endpoint_id AND w.deleted_at IS NULL
                    WHERE m.delivered_at IS NULL)::int,
                   coalesce((SELECT extract(epoch FROM \(now) - min(m.next_attempt_at)) FROM webhook_messages m
                             JOIN webhook_endpoints w ON w.id = m.endpoint_id AND w.deleted_at IS NULL
                             WHERE m.delivered_at IS NULL AND m.next_attempt_at <= \(now)), 0)::float8,
                   (SELECT count(*) FROM webhook_endpoints WHERE deleted_at IS NULL AND failing_since IS NOT NULL)::int
            """, logger: connection.logger).decode((Int, Double, Int).self) {
            return (pending, oldest, failing)
        }
        return (0, 0, 0)
    }
}
