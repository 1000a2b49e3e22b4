import BillingCore
import Foundation
import PostgresNIO

/// Invoices: created at checkout, moved by payment notifications.
public struct InvoiceRepository: Sendable {
    public init() {}

    static let columns = """
        id, user_id, subscription_id, plan_id, kind, amount, currency, status, acquirer,
        acquirer_transaction_id, payment_method_id, period_start, period_end,
        failure_code, failure_message, email, created_at, paid_at, paid_attempt_id
        """

    public func insert(_ invoice: Invoice, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO invoices (id, user_id, subscription_id, plan_id, kind, amount, currency, status, acquirer, payment_method_id,
                                  period_start, period_end, failure_code, failure_message, email, created_at, updated_at)
            VALUES (\(invoice.id), \(invoice.userID), \(invoice.subscriptionID), \(invoice.planID), \(invoice.kind.rawValue),
                    \(invoice.amount.amount), \(invoice.amount.currency.rawValue), \(invoice.status.rawValue), \(invoice.acquirer),
                    \(invoice.paymentMethodID), \(invoice.period?.start), \(invoice.period?.end), \(invoice.failure?.code), \(invoice.failure?.message),
                    \(invoice.email), \(invoice.createdAt), \(invoice.createdAt))
            """, logger: connection.logger)
    }

    /// Locks the invoice row for the rest of the transaction; concurrent notifications queue here.
    public func lock(id: UUID, on connection: PostgresConnection) async throws -> Invoice? {
        try await invoices(connection.query(
            "SELECT \(unescaped: Self.columns) FROM invoices WHERE id = \(id) FOR UPDATE", logger: connection.logger
        )).first
    }

    /// The viewer's open invoice, locked.
    public func lockOpen(userID: UUID, on connection: PostgresConnection) async throws -> Invoice? {
        try await invoices(connection.query("""
            SELECT \(unescaped: Self.columns) FROM invoices
            WHERE user_id = \(userID) AND status IN ('created', 'pending') FOR UPDATE
            """, logger: connection.logger)).first
    }

    /// The open invoice of a subscription's owner, locked: `lockOpen(userID:)` for a job that
    /// knows the subscription only.
    public func lockOpen(ownerOf subscriptionID: UUID, on connection: PostgresConnection) async throws -> Invoice? {
        try await invoices(connection.query("""
            SELECT \(unescaped: Self.columns) FROM invoices
            WHERE user_id = (SELECT user_id FROM subscriptions WHERE id = \(subscriptionID)) AND status IN ('created', 'pending') FOR UPDATE
            """, logger: connection.logger)).first
    }

    /// Pending invoices with no attempt under way, pending since before `cutoff`: a charge we sent
    /// whose answer was lost. Reconciliation asks the acquirer about them.
    public func pendingWithoutStartedAttempt(before cutoff: Date, limit: Int, on connection: PostgresConnection) async throws -> [Invoice] {
        try await invoices(connection.query("""
            SELECT \(unescaped: Self.columns) FROM invoices i
            WHERE i.status = 'pending' AND i.updated_at < \(cutoff)
              AND NOT EXISTS (SELECT 1 FROM payment_attempts a WHERE a.invoice_id = i.id AND a.status = 'started')
            ORDER BY i.updated_at LIMIT \(limit)
            """, logger: connection.logger))
    }

    /// The renewal invoice of the subscription's period starting at `periodStart`, if one was made
    /// and not canceled (`invoices_one_renewal_per_period` allows one).
    public func renewal(subscriptionID: UUID, periodStart: Date, on connection: PostgresConnection) async throws -> Invoice? {
        try await invoices(connection.query("""
            SELECT \(unescaped: Self.columns) FROM invoices
            WHERE subscription_id = \(subscriptionID) AND kind = 'renewal' AND status <> 'canceled'
              AND period_start BETWEEN \(periodStart.addingTimeInterval(-0.000002)) AND \(periodStart.addingTimeInterval(0.000002))
            """, logger: connection.logger)).first
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> Invoice? {
        try await invoices(connection.query(
            "SELECT \(unescaped: Self.columns) FROM invoices WHERE id = \(id)", logger: connection.logger
        )).first
    }

    /// The paid invoices of a subscription whose period has not ended by `now`, earliest period first.
    public func paidRunning(subscriptionID: UUID, at now: Date, on connection: PostgresConnection) async throws -> [Invoice] {
        try await invoices(connection.query("""
            SELECT \(unescaped: Self.columns) FROM invoices
            WHERE subscription_id = \(subscriptionID) AND status = 'paid' AND period_end > \(now)
            ORDER BY period_start, id
            """, logger: connection.logger))
    }

    public func list(userID: UUID, on connection: PostgresConnection) async throws -> [Invoice] {
        try await invoices(connection.query(
            "SELECT \(unescaped: Self.columns) FROM invoices WHERE user_id = \(userID) ORDER BY created_at DESC, id",
            logger: connection.logger
        ))
    }

    /// Writes back everything a transition may change.
    public func update(_ invoice: Invoice, on connection: PostgresConnection) async throws {
        try await connection.run("""
            UPDATE invoices SET
                status = \(invoice.status.rawValue),
                acquirer_transaction_id = \(invoice.acquirerTransactionID),
                payment_method_id = \(invoice.paymentMethodID),
                period_start = \(invoice.period?.start),
                period_end = \(invoice.period?.end),
                failure_code = \(invoice.failure?.code),
                failure_message = \(invoice.failure?.message),
                paid_at = \(invoice.paidAt),
                paid_attempt_id = \(invoice.paidAttemptID),
                updated_at = now()
            WHERE id = \(invoice.id)
            """, logger: connection.logger)
    }

    private func invoices(_ rows: PostgresRowSequence) async throws -> [Invoice] {
        var invoices: [Invoice] = []
        for try await row in rows {
            invoices.append(try Self.invoice(from: row.makeRandomAccess()))
        }
        return invoices
    }

    /// An invoice from a row that has `columns`.
    static func invoice(from cells: PostgresRandomAccessRow) throws -> Invoice {
        let periodStart = try cells["period_start"].decode(Date?.self)
        let periodEnd = try cells["period_end"].decode(Date?.self)
        return Invoice(
            id: try cells["id"].decode(UUID.self),
            userID: try cells["user_id"].decode(UUID.self),
            subscriptionID: try cells["subscription_id"].decode(UUID.self),
            planID: try cells["plan_id"].decode(UUID.self),
            kind: try cells.decodeKnown("kind"),
            amount: try cells.decodeMoney("amount"),
            status: try cells.decodeKnown("status"),
            acquirer: try cells["acquirer"].decode(String.self),
            acquirerTransactionID: try cells["acquirer_transaction_id"].decode(String?.self),
            paymentMethodID: try cells["payment_method_id"].decode(UUID?.self),
            period: zip(periodStart, periodEnd).map { BillingPeriod(start: $0, end: $1) },
            failure: try cells.decodeDecline(code: "failure_code", message: "failure_message"),
            email: try cells["email"].decode(String?.self),
            createdAt: try cells["created_at"].decode(Date.self),
            paidAt: try cells["paid_at"].decode(Date?.self),
            paidAttemptID: try cells["paid_attempt_id"].decode(UUID?.self)
        )
    }
}

/// Both values or none.
func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
