import BillingCore
import Foundation
import PostgresNIO

/// Subscriptions: one current (not expired) per viewer.
public struct SubscriptionRepository: Sendable {
    public init() {}

    private static let columns = "id, user_id, plan_id, status, current_period_start, current_period_end, auto_renew, cancel_at_period_end, billing_anchor, grace_until"

    public func insert(_ subscription: Subscription, on connection: PostgresConnection) async throws {
        try await connection.run("""
            INSERT INTO subscriptions (id, user_id, plan_id, status, current_period_start, current_period_end, auto_renew, cancel_at_period_end, billing_anchor, grace_until)
            VALUES (\(subscription.id), \(subscription.userID), \(subscription.planID), \(subscription.status.rawValue),
                    \(subscription.currentPeriod?.start), \(subscription.currentPeriod?.end), \(subscription.autoRenew), \(subscription.cancelAtPeriodEnd),
                    \(subscription.billingAnchor), \(subscription.graceUntil))
            """, logger: connection.logger)
    }

    /// The viewer's subscription that is not over yet, locked.
    public func lockCurrent(userID: UUID, on connection: PostgresConnection) async throws -> Subscription? {
        try await subscriptions(connection.query(
            "SELECT \(unescaped: Self.columns) FROM subscriptions WHERE user_id = \(userID) AND status <> 'expired' FOR UPDATE",
            logger: connection.logger
        )).first
    }

    public func lock(id: UUID, on connection: PostgresConnection) async throws -> Subscription? {
        try await subscriptions(connection.query(
            "SELECT \(unescaped: Self.columns) FROM subscriptions WHERE id = \(id) FOR UPDATE", logger: connection.logger
        )).first
    }

    public func find(id: UUID, on connection: PostgresConnection) async throws -> Subscription? {
        try await subscriptions(connection.query(
            "SELECT \(unescaped: Self.columns) FROM subscriptions WHERE id = \(id)", logger: connection.logger
        )).first
    }

    /// Subscriptions whose access (paid, or its grace) ended by `now` but whose row still grants it.
    public func lapsed(at now: Date, limit: Int, on connection: PostgresConnection) async throws -> [UUID] {
        var ids: [UUID] = []
        // GREATEST skips a NULL grace.
        for try await id in try await connection.query("""
            SELECT id FROM subscriptions
            WHERE status IN ('active', 'past_due', 'canceled') AND GREATEST(current_period_end, grace_until) <= \(now)
            ORDER BY current_period_end LIMIT \(limit)
            """, logger: connection.logger).decode(UUID.self) {
            ids.append(id)
        }
        return ids
    }

    public func current(userID: UUID, on connection: PostgresConnection) async throws -> Subscription? {
        try await subscriptions(connection.query(
            "SELECT \(unescaped: Self.columns) FROM subscriptions WHERE user_id = \(userID) AND status <> 'expired'",
            logger: connection.logger
        )).first
    }

    /// The viewer's most recent subscription, whatever its state: what an account page shows.
    public func latest(userID: UUID, on connection: PostgresConnection) async throws -> Subscription? {
        try await subscriptions(connection.query(
            "SELECT \(unescaped: Self.columns) FROM subscriptions WHERE user_id = \(userID) ORDER BY created_at DESC, id LIMIT 1",
            logger: connection.logger
        )).first
    }

    public func update(_ subscription: Subscription, on connection: PostgresConnection) async throws {
        try await connection.run("""
            UPDATE subscriptions SET
                plan_id = \(subscription.planID),
                status = \(subscription.status.rawValue),
                current_period_start = \(subscription.currentPeriod?.start),
                current_period_end = \(subscription.currentPeriod?.end),
                auto_renew = \(subscription.autoRenew),
                cancel_at_period_end = \(subscription.cancelAtPeriodEnd),
                billing_anchor = \(subscription.billingAnchor),
                grace_until = \(subscription.graceUntil),
                updated_at = now()
            WHERE id = \(subscription.id)
            """, logger: connection.logger)
    }

    private func subscriptions(_ rows: PostgresRowSequence) async throws -> [Subscription] {
        var subscriptions: [Subscription] = []
        for try await (id, userID, planID, status, start, end, autoRenew, cancelAtPeriodEnd, anchor, graceUntil)
            in rows.decode((UUID, UUID, UUID, String, Date?, Date?, Bool, Bool, Date?, Date?).self) {
            var subscription = try Self.subscription(id, userID, planID, status, start, end, autoRenew, cancelAtPeriodEnd, anchor)
            subscription.graceUntil = graceUntil
            subscriptions.append(subscription)
        }
        return subscriptions
    }

    private static func subscription(_ id: UUID, _ userID: UUID, _ planID: UUID, _ status: String, _ start: Date?, _ end: Date?, _ autoRenew: Bool, _ cancelAtPeriodEnd: Bool, _ anchor: Date?) throws -> Subscription {
        guard let known = SubscriptionStatus(rawValue: status) else { throw UnknownDatabaseValue(column: "subscriptions.status", value: status) }
        return Subscription(
            id: id, userID: userID, planID: planID,
            status: known,
            currentPeriod: zip(start, end).map { BillingPeriod(start: $0, end: $1) },
            autoRenew: autoRenew, cancelAtPeriodEnd: cancelAtPeriodEnd, billingAnchor: anchor
        )
    }
}
