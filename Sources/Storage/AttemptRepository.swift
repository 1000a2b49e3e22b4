import BillingCore
import Foundation
import PostgresNIO

/// Payment attempts: one row per acquirer transaction, unique per acquirer.
public struct AttemptRepository: Sendable {
    public init() {}

    static let columns = """
        id, acquirer, transaction_id, invoice_id, claimed_invoice_id, amount, currency, account_id, status,
        card_first_six, card_last_four, card_brand, decline_code, decline_message, succeeded_at, created_at
        """

    /// The attempt for this acquirer transaction, locked; created from `fresh` when it is new.
    /// Notifications for one transaction arrive many times and at once: the unique key makes
    /// them meet on one row. One statement: the no-op update on conflict locks the existing row
    /// and returns it, and `xmax = 0` tells a row this statement inserted.
    public func lockOrInsert(_ fresh: PaymentAttempt, on connection: PostgresConnection) async throws -> (attempt: PaymentAttempt, inserted: Bool) {
        let row = try await connection.firstRow("""
            INSERT INTO payment_attempts AS a (id, acquirer, transaction_id, invoice_id, claimed_invoice_id, amount, currency, account_id, status,
                                               card_first_six, card_last_four, card_brand, created_at, updated_at)
            VALUES (\(fresh.id), \(fresh.acquirer), \(fresh.transactionID), \(fresh.invoiceID), \(fresh.claimedInvoiceID),
                    \(fresh.amount.amount), \(fresh.amount.currency.rawValue), \(fresh.accountID), \(fresh.status.rawValue),
                    \(fresh.card?.firstSix), \(fresh.card?.lastFour), \(fresh.card?.brand), \(fresh.createdAt), \(fresh.createdAt))
            ON CONFLICT (acquirer, transaction_id) DO UPDATE SET updated_at = a.updated_at
            RETURNING \(unescaped: Self.columns), (xmax = 0) AS inserted
            """, logger: connection.logger)
        guard let cells = row?.makeRandomAccess() else { throw PostgresRowMissing(query: "lock payment attempt") }
        return (try Self.attempt(from: cells), try cells["inserted"].decode(Bool.self))
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> PaymentAttempt? {
        try await attempts(connection.query(
            "SELECT \(unescaped: Self.columns) FROM payment_attempts WHERE id = \(id)", logger: connection.logger
        )).first
    }

    /// Locks an attempt by id (refunds lock it to keep their sum within its amount).
    public func lock(id: UUID, on connection: PostgresConnection) async throws -> PaymentAttempt? {
        try await attempts(connection.query(
            "SELECT \(unescaped: Self.columns) FROM payment_attempts WHERE id = \(id) FOR UPDATE", logger: connection.logger
        )).first
    }

    public func find(acquirer: String, transactionID: String, on connection: PostgresConnection) async throws -> PaymentAttempt? {
        try await attempts(connection.query(
            "SELECT \(unescaped: Self.columns) FROM payment_attempts WHERE acquirer = \(acquirer) AND transaction_id = \(transactionID)",
            logger: connection.logger
        )).first
    }

    /// Locks an attempt by its acquirer transaction id.
    public func lock(acquirer: String, transactionID: String, on connection: PostgresConnection) async throws -> PaymentAttempt? {
        try await attempts(connection.query(
            "SELECT \(unescaped: Self.columns) FROM payment_attempts WHERE acquirer = \(acquirer) AND transaction_id = \(transactionID) FOR UPDATE",
            logger: connection.logger
        )).first
    }

    /// Those of all the viewer's invoices, for invoice lists.
    public func list(userID: UUID, on connection: PostgresConnection) async throws -> [PaymentAttempt] {
        try await attempts(connection.query("""
            SELECT \(unescaped: Self.columns) FROM payment_attempts
            WHERE invoice_id IN (SELECT id FROM invoices WHERE user_id = \(userID)) ORDER BY created_at, id
            """, logger: connection.logger))
    }

    public func list(invoiceID: UUID, on connection: PostgresConnection) async throws -> [PaymentAttempt] {
        try await attempts(connection.query(
            "SELECT \(unescaped: Self.columns) FROM payment_attempts WHERE invoice_id = \(invoiceID) ORDER BY created_at, id",
            logger: connection.logger
        ))
    }

    /// Attempts with no outcome since before `cutoff`, oldest first: reconciliation asks about them.
    public func started(before cutoff: Date, limit: Int, on connection: PostgresConnection) async throws -> [PaymentAttempt] {
        try await attempts(connection.query("""
            SELECT \(unescaped: Self.columns) FROM payment_attempts
            WHERE status = 'started' AND created_at < \(cutoff) ORDER BY created_at LIMIT \(limit)
            """, logger: connection.logger))
    }

    /// Successful attempts that paid nothing (or only a card check, whose ruble goes back) and
    /// whose refunds (those not failed) fall short of them, with nothing tried since before
    /// `cutoff`: an automatic refund the acquirer refused.
    /// Each comes with the reason of its last automatic refund.
    public func unrefundedUnmatched(before cutoff: Date, limit: Int, on connection: PostgresConnection) async throws -> [(PaymentAttempt, RefundReason?)] {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns),
                   (SELECT r.reason FROM refunds r
                    WHERE r.attempt_id = a.id AND r.reason NOT IN ('made_at_acquirer', 'requested_by_operator')
                    ORDER BY r.created_at DESC LIMIT 1) AS last_reason
            FROM payment_attempts a
            WHERE a.status = 'succeeded'
              AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.paid_attempt_id = a.id AND i.kind <> 'card_check')
              AND COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.attempt_id = a.id AND r.status <> 'failed'), 0) < a.amount
              AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.attempt_id = a.id AND r.updated_at >= \(cutoff))
            ORDER BY a.created_at LIMIT \(limit)
            """, logger: connection.logger)
        var found: [(PaymentAttempt, RefundReason?)] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            let reason = try cells["last_reason"].decode(String?.self).map { raw in
                guard let reason = RefundReason(rawValue: raw) else { throw UnknownDatabaseValue(column: "refunds.reason", value: raw) }
                return reason
            }
            found.append((try Self.attempt(from: cells), reason))
        }
        return found
    }

    /// Writes back what an attempt's transitions change.
    public func update(_ attempt: PaymentAttempt, on connection: PostgresConnection) async throws {
        try await connection.run("""
            UPDATE payment_attempts SET
                status = \(attempt.status.rawValue),
                amount = \(attempt.amount.amount),
                currency = \(attempt.amount.currency.rawValue),
                account_id = \(attempt.accountID),
                card_first_six = \(attempt.card?.firstSix),
                card_last_four = \(attempt.card?.lastFour),
                card_brand = \(attempt.card?.brand),
                decline_code = \(attempt.decline?.code),
                decline_message = \(attempt.decline?.message),
                succeeded_at = \(attempt.succeededAt),
                updated_at = now()
            WHERE id = \(attempt.id)
            """, logger: connection.logger)
    }

    private func attempts(_ rows: PostgresRowSequence) async throws -> [PaymentAttempt] {
        var attempts: [PaymentAttempt] = []
        for try await row in rows {
            attempts.append(try Self.attempt(from: row.makeRandomAccess()))
        }
        return attempts
    }

    /// An attempt from a row that has `columns`.
    static func attempt(from cells: PostgresRandomAccessRow) throws -> PaymentAttempt {
        PaymentAttempt(
            id: try cells["id"].decode(UUID.self),
            acquirer: try cells["acquirer"].decode(String.self),
            transactionID: try cells["transaction_id"].decode(String.self),
            invoiceID: try cells["invoice_id"].decode(UUID?.self),
            claimedInvoiceID: try cells["claimed_invoice_id"].decode(String?.self),
            amount: try cells.decodeMoney("amount"),
            accountID: try cells["account_id"].decode(String?.self),
            status: try cells.decodeKnown("status"),
            card: try cells.decodeCard(prefix: "card_"),
            decline: try cells.decodeDecline(code: "decline_code", message: "decline_message"),
            succeededAt: try cells["succeeded_at"].decode(Date?.self),
            createdAt: try cells["created_at"].decode(Date.self)
        )
    }
}
