import Acquiring
import BillingCore
import Foundation
import PostgresNIO
import Storage

/// Starts a purchase: the invoice to pay and a pending subscription, never two open invoices.
public struct CheckoutService: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    /// What checkout produced: the invoice and whether it was made just now.
    public struct Outcome: Sendable {
        public var invoice: Invoice
        public var plan: Plan
        public var created: Bool
    }

    /// Returns the viewer's open invoice for this plan, or creates one. An open invoice for
    /// another plan, or one too old to be paid, is abandoned first, unless a payment for it is
    /// already under way.
    public func checkout(userID: UUID, planIDOrCode: String, email: String?, language: Language? = nil, on connection: PostgresConnection, journal: inout Journal) async throws -> Outcome {
        let now = services.clock.now()
        let actor = "user:\(userID.lowercased)"
        // One checkout per viewer at a time: the second waits here and then sees the first's invoice.
        try await connection.run("SELECT pg_advisory_xact_lock(hashtextextended(\("checkout/" + userID.lowercased), 0))", logger: connection.logger)

        guard let plan = try await services.plans.plan(idOrCode: planIDOrCode, on: connection), plan.active else {
            throw BillingError.planNotOnSale(planIDOrCode)
        }
        // Invoice, then subscription, then customer: the order a payment locks them in, so that a
        // checkout racing a Pay for the same viewer cannot deadlock with it.
        let openInvoice = try await services.invoices.lockOpen(userID: userID, on: connection)
        var current = try await services.subscriptions.lockCurrent(userID: userID, on: connection)
        // Access that ran out is over, whether or not reconciliation has marked it yet.
        if var lapsed = current, try await SubscriptionLapse(services: services).expire(&lapsed, actor: actor, on: connection, journal: &journal) {
            current = nil
        }
                try await services.customers.upsert(userID: userID, email: email, language: language, on: connection)
        if let current, current.status != .pending {
            throw BillingError.alreadySubscribed(status: current.status, until: current.currentPeriod?.end)
        }

        if var open = openInvoice {
            // Too old to pay, or left over from a subscription that has ended.
            let stale = open.status == .created && (checkoutExpired(createdAt: open.createdAt, now: now) || open.subscriptionID != current?.id)
            if open.planID == plan.id && !stale { return Outcome(invoice: open, plan: plan, created: false) }
            guard try await PaymentLedger(services: services).abandon(&open, actor: actor, on: connection, journal: &journal) else {
                throw BillingError.paymentInProgress(invoiceID: open.id)
            }
        }

        let subscriptionID: UUID
        if var pending = current {
            pending.planID = plan.id
            try await services.subscriptions.update(pending, on: connection)
            subscriptionID = pending.id
        } else {
            // Renewal is turned on by the payment that saves a card (PaymentLedger), not before.
            let created = Subscription(id: UUID(), userID: userID, planID: plan.id, status: .pending, currentPeriod: nil, autoRenew: false, cancelAtPeriodEnd: false)
            try await services.subscriptions.insert(created, on: connection)
            journal.recordTransition(entity: "subscription", id: created.id, from: nil, to: created.status.rawValue, event: "checkout", actor: actor)
            subscriptionID = created.id
        }

        let invoice = Invoice(
            id: UUID(), userID: userID, subscriptionID: subscriptionID, planID: plan.id, kind: .initial,
            amount: plan.price, status: .created, acquirer: services.acquirers.primary.name, email: email, createdAt: now
        )
        try await services.invoices.insert(invoice, on: connection)
        journal.recordTransition(entity: "invoice", id: invoice.id, from: nil, to: invoice.status.rawValue, event: "checkout", actor: actor)
        return Outcome(invoice: invoice, plan: plan, created: true)
    }
}
