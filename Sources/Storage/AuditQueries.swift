import Foundation
import PostgresNIO

/// One place where the books do not balance.
public struct AuditBreach: Sendable, Hashable, Codable {
    /// Which rule is broken (see `AuditQueries.rules`).
    public var rule: String
    public var entity: String
    public var id: UUID
    public var detail: String
}

/// The invariants of the books as SQL, each query listing the rows that break its rule. They read
/// the whole database; run them from a command or an operator's request, not on a hot path.
public struct AuditQueries: Sendable {
    public init() {}

    /// Rule name, entity, and a query returning (id, detail) for every breach.
    static let rules: [(String, String, String)] = [
        ("paid_invoice_has_one_matching_attempt", "invoice", """
            SELECT i.id, 'paid by ' || COALESCE(i.paid_attempt_id::text, 'no attempt') || ', '
                   || (SELECT count(*) FROM payment_attempts a WHERE a.invoice_id = i.id AND a.status = 'succeeded'
                       AND a.amount = i.amount AND a.currency = i.currency AND a.id = i.paid_attempt_id)::text || ' matching'
            FROM invoices i
            WHERE i.status = 'paid' AND NOT EXISTS (
                SELECT 1 FROM payment_attempts a
                WHERE a.id = i.paid_attempt_id AND a.invoice_id = i.id AND a.status = 'succeeded'
                  AND a.amount = i.amount AND a.currency = i.currency)
            """),
        ("unmatched_money_is_refunded", "payment_attempt", """
            SELECT a.id, 'took ' || a.amount::text || ', refunds hold ' || COALESCE(sum(r.amount), 0)::text
            FROM payment_attempts a
            LEFT JOIN refunds r ON r.attempt_id = a.id AND r.status <> 'failed'
            WHERE a.status = 'succeeded' AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.paid_attempt_id = a.id AND i.kind <> 'card_check')
            GROUP BY a.id, a.amount
            HAVING COALESCE(sum(r.amount), 0) < a.amount
            """),
        ("refunds_within_attempt", "payment_attempt", """
            SELECT a.id, 'took ' || a.amount::text || ', refunds hold ' || sum(r.amount)::text
            FROM payment_attempts a JOIN refunds r ON r.attempt_id = a.id AND r.status <> 'failed'
            GROUP BY a.id, a.amount
            HAVING sum(r.amount) > a.amount
            """),
        ("attempt_settled_within_a_day", "payment_attempt", """
            SELECT a.id, 'started ' || a.created_at::text || ' and still without an outcome'
            FROM payment_attempts a
            WHERE a.status = 'started' AND a.created_at < now() - interval '1 day'
            """),
        ("access_covered_by_paid_invoices", "subscription", """
            SELECT s.id, 'access ' || s.current_period_start::text || ' to ' || s.current_period_end::text || ' is not covered'
            FROM subscriptions s
            WHERE s.status IN ('active', 'past_due', 'canceled') AND NOT EXISTS (
                SELECT 1 FROM invoices i
                WHERE i.subscription_id = s.id AND i.status = 'paid'
                GROUP BY i.subscription_id
                HAVING min(i.period_start) <= s.current_period_start AND max(i.period_end) >= s.current_period_end)
            """),
        ("refund_settled_within_a_day", "refund", """
            SELECT r.id, r.status || ' since ' || r.created_at::text || '; its outcome at the acquirer is unknown: check its dashboard'
            FROM refunds r
            WHERE r.status IN ('created', 'pending') AND r.created_at < now() - interval '1 day'
            """),
        ("cancellation_refunds_within_quote", "cancellation", """
            SELECT c.id, 'owes ' || c.refund_amount::text || ', refunds hold ' || sum(r.amount)::text
            FROM cancellations c JOIN refunds r ON r.cancellation_id = c.id AND r.status <> 'failed'
            GROUP BY c.id, c.refund_amount
            HAVING sum(r.amount) > c.refund_amount
            """),
        ("canceled_access_ends_as_quoted", "subscription", """
            SELECT s.id, 'access to ' || s.current_period_end::text || ', cancelled with access to ' || c.access_until::text
            FROM subscriptions s JOIN cancellations c ON c.subscription_id = s.id AND c.resumed_at IS NULL
            WHERE s.status = 'canceled' AND s.current_period_end > c.access_until
            """),
    ]

    public func breaches(on connection: PostgresConnection) async throws -> [AuditBreach] {
        var found: [AuditBreach] = []
        for (rule, entity, sql) in Self.rules {
            for try await (id, detail) in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: connection.logger).decode((UUID, String).self) {
                found.append(AuditBreach(rule: rule, entity: entity, id: id, detail: detail))
            }
        }
        return found
    }
}
