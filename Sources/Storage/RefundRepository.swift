import BillingCore
import Foundation
import PostgresNIO

/// Refunds: money going back for a successful attempt.
public struct RefundRepository: Sendable {
    public init() {}

    static let columns = """
        id, attempt_id, invoice_id, acquirer, amount, currency, status, reason, comment, acquirer_refund_id,
        failure_message, cancellation_id, actor, created_at, submitted_at, settled_at
        """

    public func insert(_ refund: Refund, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO refunds (id, attempt_id, invoice_id, acquirer, amount, currency, status, reason, comment, acquirer_refund_id, cancellation_id, actor, created_at, updated_at, settled_at)
            VALUES (\(refund.id), \(refund.attemptID), \(refund.invoiceID), \(refund.acquirer), \(refund.amount.amount),
                    \(refund.amount.currency.rawValue), \(refund.status.rawValue), \(refund.reason.rawValue), \(refund.comment),
                    \(refund.acquirerRefundID), \(refund.cancellationID), \(refund.actor), \(refund.createdAt), \(refund.createdAt), \(refund.settledAt))
            """, logger: connection.logger)
    }

    public func lock(id: UUID, on connection: PostgresConnection) async throws -> Refund? {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE id = \(id) FOR UPDATE", logger: connection.logger
        )).first
    }

    public func find(acquirer: String, acquirerRefundID: String, on connection: PostgresConnection) async throws -> Refund? {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE acquirer = \(acquirer) AND acquirer_refund_id = \(acquirerRefundID)",
            logger: connection.logger
        )).first
    }

    /// The refunds of an attempt, locked (the attempt is locked first by the caller).
    public func lockAll(attemptID: UUID, on connection: PostgresConnection) async throws -> [Refund] {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE attempt_id = \(attemptID) ORDER BY created_at, id FOR UPDATE",
            logger: connection.logger
        ))
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> Refund? {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE id = \(id)", logger: connection.logger
        )).first
    }

    /// Those of all the viewer's invoices, for invoice lists.
    public func list(userID: UUID, on connection: PostgresConnection) async throws -> [Refund] {
        try await refunds(connection.query("""
            SELECT \(unescaped: Self.columns) FROM refunds
            WHERE invoice_id IN (SELECT id FROM invoices WHERE user_id = \(userID)) ORDER BY created_at, id
            """, logger: connection.logger))
    }

    public func list(invoiceID: UUID, on connection: PostgresConnection) async throws -> [Refund] {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE invoice_id = \(invoiceID) ORDER BY created_at, id",
            logger: connection.logger
        ))
    }

    /// An attempt's refunds, without locking them.
    public func list(attemptID: UUID, on connection: PostgresConnection) async throws -> [Refund] {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE attempt_id = \(attemptID) ORDER BY created_at, id", logger: connection.logger
        ))
    }

    /// The refunds a cancellation opened, oldest first.
    public func list(cancellationID: UUID, on connection: PostgresConnection) async throws -> [Refund] {
        try await refunds(connection.query(
            "SELECT \(unescaped: Self.columns) FROM refunds WHERE cancellation_id = \(cancellationID) ORDER BY created_at, id",
            logger: connection.logger
        ))
    }

    /// Refunds not settled since before `cutoff` that are safe to send (again), oldest first:
    /// never sent, or first sent after `firstSentAfter`, while the acquirer still replays its
    /// answer to the same request id instead of refunding twice (`Refund.isBeingSent` in SQL).
    public func unsettled(before cutoff: Date, firstSentAfter: Date, limit: Int, on connection: PostgresConnection) async throws -> [Refund] {
        try await refunds(connection.query("""
            SELECT \(unescaped: Self.columns) FROM refunds
            WHERE created_at < \(cutoff)
              AND (status = 'created' OR (status = 'pending' AND submitted_at > \(firstSentAfter)))
            ORDER BY created_at LIMIT \(limit)
            """, logger: connection.logger))
    }

    /// Writes back what a refund's transitions change.
    public func update(_ refund: Refund, on connection: PostgresConnection) async throws {
        try await connection.run("""
            UPDATE refunds SET
                status = \(refund.status.rawValue),
                acquirer_refund_id = \(refund.acquirerRefundID),
                failure_message = \(refund.failureMessage),
                submitted_at = \(refund.submittedAt),
                settled_at = \(refund.settledAt),
                updated_at = now()
            WHERE id = \(refund.id)
            """, logger: connection.logger)
    }

    private func refunds(_ rows: PostgresRowSequence) async throws -> [Refund] {
        var refunds: [Refund] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            refunds.append(Refund(
                id: try cells["id"].decode(UUID.self),
                attemptID: try cells["attempt_id"].decode(UUID.self),
                invoiceID: try cells["invoice_id"].decode(UUID?.self),
                acquirer: try cells["acquirer"].decode(String.self),
                amount: try cells.decodeMoney("amount"),
                status: try cells.decodeKnown("status"),
                reason: try cells.decodeKnown("reason"),
                comment: try cells["comment"].decode(String?.self),
                acquirerRefundID: try cells["acquirer_refund_id"].decode(String?.self),
                failureMessage: try cells["failure_message"].decode(String?.self),
                cancellationID: try cells["cancellation_id"].decode(UUID?.self),
                actor: try cells["actor"].decode(String.self),
                createdAt: try cells["created_at"].decode(Date.self),
                submittedAt: try cells["submitted_at"].decode(Date?.self),
                settledAt: try cells["settled_at"].decode(Date?.self)
            ))
        }
        return refunds
    }
}
