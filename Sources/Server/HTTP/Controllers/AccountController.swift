import Billing
import BillingCore
import Foundation
import Hummingbird
import Storage

/// The viewer's own invoices and subscription.
struct AccountController {
    let services: BillingServices
    let links: PaymentLinks

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get("invoices", use: listInvoices)
        group.get("invoices/:id", use: showInvoice)
        group.get("subscription", use: showSubscription)
    }

    /// The invoice list body.
    struct InvoiceList: ResponseEncodable {
        var invoices: [InvoiceBody]
    }

    /// The subscription body; `subscription` is null for a viewer who never bought one.
    struct SubscriptionEnvelope: ResponseEncodable {
        @NullEncoded var subscription: SubscriptionBody?
    }

    @Sendable func listInvoices(_ request: Request, context: BillingRequestContext) async throws -> InvoiceList {
        let user = try context.requireUser()
        return try await services.database.read { connection in
            let plans = try await services.plans.allPlansByID(on: connection)
            let invoices = try await services.invoices.list(userID: user.id, on: connection)
            let attempts = Dictionary(grouping: try await services.attempts.list(userID: user.id, on: connection), by: \.invoiceID)
            let refunds = Dictionary(grouping: try await services.refunds.list(userID: user.id, on: connection), by: \.invoiceID)
            return InvoiceList(invoices: invoices.map {
                InvoiceBody($0, plan: plans[$0.planID], paymentURL: links.url(for: $0.id), attempts: attempts[$0.id] ?? [], refunds: refunds[$0.id] ?? [])
            })
        }
    }

    @Sendable func showInvoice(_ request: Request, context: BillingRequestContext) async throws -> InvoiceBody {
        let user = try context.requireUser()
        let rawID = try context.parameters.require("id")
        // Another viewer's invoice is as absent as one that never existed.
        let notFound = Problem.notFound("No invoice \(rawID).")
        guard let id = UUID(uuidString: rawID) else { throw notFound }
        return try await services.database.read { connection in
            guard let invoice = try await services.invoices.find(id: id, on: connection), invoice.userID == user.id else { throw notFound }
            let plan = try await services.plans.plan(id: invoice.planID, on: connection)
            let attempts = try await services.attempts.list(invoiceID: invoice.id, on: connection)
            let refunds = try await services.refunds.list(invoiceID: invoice.id, on: connection)
            return InvoiceBody(invoice, plan: plan, paymentURL: links.url(for: invoice.id), attempts: attempts, refunds: refunds)
        }
    }

    @Sendable func showSubscription(_ request: Request, context: BillingRequestContext) async throws -> SubscriptionEnvelope {
        let user = try context.requireUser()
        return try await services.database.read { connection in
            guard let subscription = try await services.subscriptions.current(userID: user.id, on: connection) else {
                return SubscriptionEnvelope(subscription: nil)
            }
            let plan = try await services.plans.plan(id: subscription.planID, on: connection)
            return SubscriptionEnvelope(subscription: SubscriptionBody(
                id: subscription.id.lowercased, status: subscription.effectiveStatus(at: services.clock.now()).rawValue, plan: plan.map(PlanBody.init),
                currentPeriod: subscription.currentPeriod.map(PeriodBody.init),
                autoRenew: subscription.autoRenew, cancelAtPeriodEnd: subscription.cancelAtPeriodEnd
            ))
        }
    }
}

extension InvoiceBody: ResponseEncodable {}
