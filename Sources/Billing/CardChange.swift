import BillingCore
import Foundation
import Storage

/// The viewer changes the card renewals charge: a `card_check` invoice of 1 ruble paid through the
/// acquirer's form saves the new card as the default, and its ruble is refunded at once
/// (`PaymentLedger`). While a declined renewal is unpaid, the new card pays that instead.
public struct CardChange: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    /// The card check to pay: the viewer's open one, or a new one (`created`).
    public func start(userID: UUID, actor: String) async throws -> (invoice: Invoice, plan: Plan, created: Bool) {
        try await services.database.journaledTransaction { connection, journal in
            // One checkout per viewer at a time, card checks included (see CheckoutService).
            try await connection.run("SELECT pg_advisory_xact_lock(hashtextextended(\("checkout/" + userID.lowercased), 0))", logger: connection.logger)
            let open = try await services.invoices.lockOpen(userID: userID, on: connection)
            guard let subscription = try await services.subscriptions.lockCurrent(userID: userID, on: connection),
                  let plan = try await services.plans.plan(id: subscription.planID, on: connection)
            else { throw BillingError.noSubscription }
            let status = subscription.effectiveStatus(at: services.clock.now())
            guard status == .active || status == .pastDue else { throw BillingError.subscriptionNotCancelable(status) }
            if var open {
                switch open.kind {
                case .renewal:
                    throw BillingError.renewalUnpaid(invoiceID: open.id)
                case .cardCheck where !checkoutExpired(createdAt: open.createdAt, now: services.clock.now()):
                    return (open, plan, false)
                case .cardCheck, .initial:
                    // A card check too old to pay is replaced; anything being paid is waited for.
                    guard try await PaymentLedger(services: services).abandon(&open, actor: actor, on: connection, journal: &journal) else {
                        throw BillingError.paymentInProgress(invoiceID: open.id)
                    }
                }
            }
            let invoice = Invoice(
                id: UUID(), userID: userID, subscriptionID: subscription.id, planID: plan.id, kind: .cardCheck,
                amount: Invoice.cardCheckAmount, status: .created, acquirer: services.acquirers.primary.name, createdAt: services.clock.now()
            )
            try await services.invoices.insert(invoice, on: connection)
            journal.recordTransition(entity: "invoice", id: invoice.id, from: nil, to: invoice.status.rawValue, event: "card_change", actor: actor)
            return (invoice, plan, true)
        }
    }
}
