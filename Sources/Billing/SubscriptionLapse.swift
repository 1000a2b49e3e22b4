import BillingCore
import Foundation
import PostgresNIO
import Storage

/// Marks a subscription whose paid access has run out as expired. Reads already treat it as
/// expired (`Subscription.effectiveStatus(at:)`); this makes the row say so, with its history.
struct SubscriptionLapse: Sendable {
    let services: BillingServices

    /// Expires the locked subscription when it has lapsed; returns whether it did.
    func expire(_ subscription: inout Subscription, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> Bool {
        guard subscription.hasLapsed(at: services.clock.now()),
              case .move(let from, let to) = subscription.status.applying(.expire)
        else { return false }
        subscription.status = to
        try await services.subscriptions.update(subscription, on: connection)
        journal.recordTransition(entity: "subscription", id: subscription.id, from: from.rawValue, to: to.rawValue, event: SubscriptionEvent.expire.rawValue, actor: actor)
        journal.enqueue(.subscriptionExpired, .subscription(subscription), at: services.clock.now())
        return true
    }

    func expireIfLapsed(subscriptionID: UUID, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> Bool {
        guard var subscription = try await services.subscriptions.lock(id: subscriptionID, on: connection) else { return false }
        return try await expire(&subscription, actor: actor, on: connection, journal: &journal)
    }
}
