import Acquiring
import BillingCore
import Foundation
import PostgresNIO
import Storage

/// Starts a purchase: the invoice to pay and a pending subscription, never two open invoices.
struct CheckoutService: Sendable {
    let services: BillingServices

    /// What checkout produced: the invoice and whether it was made just now.
    struct Outcome: Sendable {
        var invoice: Invoice
        var plan: Plan
        var created: Bool
    }

    /// Returns the viewer's open invoice for this plan, or creates one. An open invoice for
    /// another plan, or one too old to be paid, is abandoned first, unless a payment for it is
    /// already under way.
    func checkout(user: AuthenticatedUser, planIDOrCode: String, email: String?, on connection: PostgresConnection, journal: inout Journal, now: Date = Date()) async throws -> Outcome {
        // One checkout per viewer at a time: the second waits here and then sees the first's invoice.
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\("checkout/" + user.id.lowercased), 0))", logger: connection.logger)

        guard let plan = try await services.plans.plan(idOrCode: planIDOrCode, on: connection), plan.active else {
            throw Problem.invalid("plan_id \"\(planIDOrCode)\" is not a plan on sale; see GET /v1/plans")
        }
        // Invoice, then subscription, then customer: the order a payment locks them in, so that a
        // checkout racing a Pay for the same viewer cannot deadlock with it.
        let openInvoice = try await services.invoices.lockOpen(userID: user.id, on: connection)
        let current = try await services.subscriptions.lockCurrent(userID: user.id, on: connection)
        let email = email ?? user.email
        try await services.customers.upsert(userID: user.id, email: email, on: connection)
        if let current, current.status != .pending {
            let until = current.currentPeriod.map { " until \($0.end.formatted(.iso8601))" } ?? ""
            throw Problem(.conflict, type: "already-subscribed", title: "Already subscribed", detail: "You already have a \(current.status.rawValue) subscription\(until).")
        }

        if var open = openInvoice {
            let stale = open.status == .created && checkoutExpired(createdAt: open.createdAt, now: now)
            if open.planID == plan.id && !stale { return Outcome(invoice: open, plan: plan, created: false) }
            let transition = open.status.applying(.abandoned)
            guard case .move(let from, let to) = transition else {
                throw Problem(.conflict, type: "payment-in-progress", title: "A payment is in progress", detail: "A payment for invoice \(open.id.lowercased) is being processed; wait for its result.")
            }
            open.status = to
            try await services.invoices.update(open, on: connection)
            journal.recordTransition(entity: "invoice", id: open.id, from: from.rawValue, to: to.rawValue, event: InvoiceEvent.abandoned.rawValue, actor: "user:\(user.id.lowercased)")
        }

        let subscriptionID: UUID
        if var pending = current {
            pending.planID = plan.id
            try await services.subscriptions.update(pending, on: connection)
            subscriptionID = pending.id
        } else {
            let created = Subscription(id: UUID(), userID: user.id, planID: plan.id, status: .pending, currentPeriod: nil, autoRenew: true, cancelAtPeriodEnd: false)
            try await services.subscriptions.insert(created, on: connection)
            journal.recordTransition(entity: "subscription", id: created.id, from: nil, to: created.status.rawValue, event: "checkout", actor: "user:\(user.id.lowercased)")
            subscriptionID = created.id
        }

        let invoice = Invoice(
            id: UUID(), userID: user.id, subscriptionID: subscriptionID, planID: plan.id, kind: .initial,
            amount: plan.price, status: .created, acquirer: services.acquirers.primary.name, email: email, createdAt: now
        )
        try await services.invoices.insert(invoice, on: connection)
        journal.recordTransition(entity: "invoice", id: invoice.id, from: nil, to: invoice.status.rawValue, event: "checkout", actor: "user:\(user.id.lowercased)")
        return Outcome(invoice: invoice, plan: plan, created: true)
    }
}
