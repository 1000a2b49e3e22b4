import BillingCore
import Foundation
import PostgresNIO

/// Cancellations: one per subscription unless resumed (`cancellations_one_per_subscription`).
/// Callers hold the subscription's lock, which serialises everything done to its cancellation.
public struct CancellationRepository: Sendable {
    public init() {}

    static let columns = """
        id, subscription_id, user_id, policy, rule, refund_amount, currency, unused_months, access_until,
        period_end, auto_renew_before, idempotency_key, actor, requested_at, resumed_at
        """

    public func insert(_ cancellation: Cancellation, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO cancellations (id, subscription_id, user_id, policy, rule, refund_amount, currency, unused_months,
                                       access_until, period_end, auto_renew_before, idempotency_key, actor, requested_at)
            VALUES (\(cancellation.id), \(cancellation.subscriptionID), \(cancellation.userID), \(cancellation.policy.rawValue),
                    \(cancellation.rule.rawValue), \(cancellation.refund.amount), \(cancellation.refund.currency.rawValue),
                    \(cancellation.unusedMonths), \(cancellation.accessUntil), \(cancellation.periodEnd), \(cancellation.autoRenewBefore),
                    \(cancellation.idempotencyKey), \(cancellation.actor), \(cancellation.requestedAt))
            """, logger: connection.logger)
    }

    /// The subscription's cancellation that stands (not resumed).
    public func standing(subscriptionID: UUID, on connection: PostgresConnection) async throws -> Cancellation? {
        try await cancellations(connection.query(
            "SELECT \(unescaped: Self.columns) FROM cancellations WHERE subscription_id = \(subscriptionID) AND resumed_at IS NULL",
            logger: connection.logger
        )).first
    }

    /// The viewer's cancellation asked for with this idempotency key, resumed or not.
    public func find(userID: UUID, idempotencyKey: String, on connection: PostgresConnection) async throws -> Cancellation? {
        try await cancellations(connection.query(
            "SELECT \(unescaped: Self.columns) FROM cancellations WHERE user_id = \(userID) AND idempotency_key = \(idempotencyKey)",
            logger: connection.logger
        )).first
    }

    /// Standing cancellations whose refunds fall short of what they owe with none under way, whose
    /// payments still have something to give back, and nothing tried since before `cutoff`: a
    /// refund the acquirer refused, to be tried again.
    public func owingRefunds(before cutoff: Date, limit: Int, on connection: PostgresConnection) async throws -> [Cancellation] {
        try await cancellations(connection.query("""
            SELECT \(unescaped: Self.columns) FROM cancellations c
            WHERE c.resumed_at IS NULL AND c.refund_amount > 0
              AND COALESCE((SELECT sum(r.amount) FROM refunds r WHERE r.cancellation_id = c.id AND r.status <> 'failed'), 0) < c.refund_amount
              AND NOT EXISTS (SELECT 1 FROM refunds r WHERE r.cancellation_id = c.id AND r.updated_at >= \(cutoff))
              AND EXISTS (
                  SELECT 1 FROM payment_attempts a
                  WHERE a.id IN (SELECT r.attempt_id FROM refunds r WHERE r.cancellation_id = c.id)
                    AND a.amount > COALESCE((SELECT sum(x.amount) FROM refunds x WHERE x.attempt_id = a.id AND x.status <> 'failed'), 0))
            ORDER BY c.requested_at LIMIT \(limit)
            """, logger: connection.logger))
    }

    public func markResumed(_ id: UUID, at time: Date, on connection: PostgresConnection) async throws {
        try await connection.run("UPDATE cancellations SET resumed_at = \(time) WHERE id = \(id)", logger: connection.logger)
    }

    private func cancellations(_ rows: PostgresRowSequence) async throws -> [Cancellation] {
        var found: [Cancellation] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            found.append(Cancellation(
                id: try cells["id"].decode(UUID.self),
                subscriptionID: try cells["subscription_id"].decode(UUID.self),
                userID: try cells["user_id"].decode(UUID.self),
                policy: try cells.decodeKnown("policy"),
                rule: try cells.decodeKnown("rule"),
                refund: try cells.decodeMoney("refund_amount"),
                unusedMonths: try cells["unused_months"].decode(Int.self),
                accessUntil: try cells["access_until"].decode(Date.self),
                periodEnd: try cells["period_end"].decode(Date.self),
                autoRenewBefore: try cells["auto_renew_before"].decode(Bool.self),
                idempotencyKey: try cells["idempotency_key"].decode(String?.self),
                actor: try cells["actor"].decode(String.self),
                requestedAt: try cells["requested_at"].decode(Date.self),
                resumedAt: try cells["resumed_at"].decode(Date?.self)
            ))
        }
        return found
    }
}
