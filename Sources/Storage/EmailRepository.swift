import BillingCore
import Foundation
import PostgresNIO

/// Mail to viewers: queued when its event is published, sent by the worker.
public struct EmailRepository: Sendable {
    public init() {}

    /// Queues emails due at `now`; one already queued for the same event and template stays as
    /// it is, so publishing an event twice never mails it twice.
    public func queue(_ emails: [Email], at now: Date, on connection: PostgresConnection) async throws {
        for email in emails {
            try await connection.run("""
                INSERT INTO emails (id, event_id, template, user_id, recipient, language, subject, text_body, html_body, next_attempt_at, created_at)
                VALUES (\(email.id), \(email.eventRowID), \(email.template.rawValue), \(email.userID), \(email.recipient), \(email.language.rawValue),
                        \(email.subject), \(email.textBody), \(email.htmlBody), \(now), \(email.createdAt))
                ON CONFLICT (event_id, template) DO NOTHING
                """, logger: connection.logger)
        }
    }

    /// Up to `limit` queued emails due by `due` that nobody holds, leased until `now + lease`.
    public func claim(dueBy due: Date, now: Date, lease: TimeInterval, limit: Int, on connection: PostgresConnection) async throws -> [Email] {
        try await decode(connection.query("""
            UPDATE emails SET leased_until = \(now.addingTimeInterval(lease)), attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM emails
                WHERE status = 'queued' AND next_attempt_at <= \(due) AND (leased_until IS NULL OR leased_until <= \(now))
                ORDER BY next_attempt_at, created_at
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED)
            RETURNING \(unescaped: Self.columns)
            """, logger: connection.logger))
    }

    public func sent(_ id: UUID, at now: Date, on connection: PostgresConnection) async throws {
        try await connection.run(
            "UPDATE emails SET status = 'sent', sent_at = \(now), leased_until = NULL, last_error = NULL WHERE id = \(id)", logger: connection.logger
        )
    }

    /// Records a failure: tried again at `retryAt`, or given up for good when it is nil.
    public func failed(_ id: UUID, error: String, retryAt: Date?, on connection: PostgresConnection) async throws {
        try await connection.run("""
            UPDATE emails SET status = CASE WHEN \(retryAt)::timestamptz IS NULL THEN 'failed' ELSE 'queued' END,
                   next_attempt_at = coalesce(\(retryAt), next_attempt_at), leased_until = NULL, last_error = \(error)
            WHERE id = \(id)
            """, logger: connection.logger)
    }

    /// The newest emails to a viewer, newest first.
    public func recent(userID: UUID, limit: Int, on connection: PostgresConnection) async throws -> [Email] {
        try await decode(connection.query(
            "SELECT \(unescaped: Self.columns) FROM emails WHERE user_id = \(userID) ORDER BY created_at DESC, id DESC LIMIT \(limit)", logger: connection.logger
        ))
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> Email? {
        try await decode(connection.query("SELECT \(unescaped: Self.columns) FROM emails WHERE id = \(id)", logger: connection.logger)).first
    }

    /// Queued emails, and how long the oldest due one has waited: `/metrics`.
    public func backlog(at now: Date, on connection: PostgresConnection) async throws -> (queued: Int, oldestDueSeconds: Double, failed: Int) {
        for try await (queued, oldest, failed) in try await connection.query("""
            SELECT count(*) FILTER (WHERE status = 'queued')::int,
                   coalesce(extract(epoch FROM \(now) - min(next_attempt_at) FILTER (WHERE status = 'queued' AND next_attempt_at <= \(now))), 0)::float8,
                   count(*) FILTER (WHERE status = 'failed')::int
            FROM emails WHERE status <> 'sent'
            """, logger: connection.logger).decode((Int, Double, Int).self) {
            return (queued, oldest, failed)
        }
        return (0, 0, 0)
    }

    private static let columns = """
        id, event_id, template, user_id, recipient, language, subject, text_body, html_body, status, attempts, created_at, sent_at, last_error
        """

    private func decode(_ rows: PostgresRowSequence) async throws -> [Email] {
        var emails: [Email] = []
        for try await row in rows {
            let columns = row.makeRandomAccess()
            emails.append(Email(
                id: try columns["id"].decode(UUID.self), eventRowID: try columns["event_id"].decode(Int64.self),
                template: try columns.decodeKnown("template"), userID: try columns["user_id"].decode(UUID.self),
                recipient: try columns["recipient"].decode(String.self), language: try columns.decodeKnown("language"),
                subject: try columns["subject"].decode(String.self), textBody: try columns["text_body"].decode(String.self),
                htmlBody: try columns["html_body"].decode(String.self), status: try columns.decodeKnown("status"),
                attempts: try columns["attempts"].decode(Int.self), createdAt: try columns["created_at"].decode(Date.self),
                sentAt: try columns["sent_at"].decode(Date?.self), lastError: try columns["last_error"].decode(String?.self)
            ))
        }
        return emails
    }
}
