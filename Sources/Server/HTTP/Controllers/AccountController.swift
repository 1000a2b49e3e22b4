import Billing
import BillingCore
import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// The viewer's own invoices and subscription: cancelling it, taking that back, the renewal switch.
struct AccountController {
    let services: BillingServices
    let links: PaymentLinks

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get("invoices", use: listInvoices)
        group.get("invoices/:id", use: showInvoice)
        group.get("subscription", use: showSubscription)
        group.get("subscription/cancellation", use: showCancellation)
        group.post("subscription/cancel", use: cancel)
        group.post("subscription/resume", use: resume)
        group.put("subscription/auto-renew", use: setAutoRenew)
        group.post("subscription/card", use: changeCard)
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
        guard let standing = try await cancellations.standing(userID: user.id) else { return SubscriptionEnvelope(subscription: nil) }
        return SubscriptionEnvelope(subscription: SubscriptionBody(standing, now: services.clock.now()))
    }

    /// The quote while the subscription runs; the cancellation with its refund status once cancelled.
    @Sendable func showCancellation(_ request: Request, context: BillingRequestContext) async throws -> CancellationBody {
        let user = try context.requireUser()
        guard let standing = try await cancellations.standing(userID: user.id) else { throw BillingError.noSubscription }
        return try CancellationBody.required(standing, now: services.clock.now())
    }

    /// The cancel request body: the viewer confirms, optionally with the refund they were quoted.
    struct CancelRequestBody: Decodable {
        var confirm: Bool
        var expectedRefund: Int64?
    }

    @Sendable func cancel(_ request: Request, context: BillingRequestContext) async throws -> CancellationBody {
        let user = try context.requireUser()
        let key = try IdempotencyKey.of(request)
        let input = try await decodeBody(CancelRequestBody.self, from: request, context: context)
        guard input.confirm else { throw Problem.invalid("confirm must be true: read GET /v1/subscription/cancellation first, then confirm.") }
        if let expected = input.expectedRefund, expected < 0 { throw Problem.invalid("expected_refund must not be negative: it is the quoted refund in minor units.") }
        let standing = try await cancellations.cancel(userID: user.id, expectedRefund: input.expectedRefund, idempotencyKey: key, actor: "user:\(user.id.lowercased)")
        return try CancellationBody.required(standing, now: services.clock.now())
    }

    @Sendable func resume(_ request: Request, context: BillingRequestContext) async throws -> SubscriptionEnvelope {
        let user = try context.requireUser()
        let standing = try await cancellations.resume(userID: user.id, actor: "user:\(user.id.lowercased)")
        return SubscriptionEnvelope(subscription: SubscriptionBody(standing, now: services.clock.now()))
    }

    /// The renewal switch's request body.
    struct AutoRenewRequestBody: Decodable {
        var enabled: Bool
    }

    @Sendable func setAutoRenew(_ request: Request, context: BillingRequestContext) async throws -> SubscriptionEnvelope {
        let user = try context.requireUser()
        let input = try await decodeBody(AutoRenewRequestBody.self, from: request, context: context)
        let standing = try await cancellations.setAutoRenew(userID: user.id, enabled: input.enabled, actor: "user:\(user.id.lowercased)")
        return SubscriptionEnvelope(subscription: SubscriptionBody(standing, now: services.clock.now()))
    }

    /// A card check (1 ruble, refunded at once) whose payment saves a new card for renewals.
    @Sendable func changeCard(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let (invoice, plan, created) = try await CardChange(services: services).start(userID: user.id, actor: "user:\(user.id.lowercased)")
        let body = try CheckoutResponseBody(invoice, plan: plan, services: services, links: links)
        return try Response(status: created ? .created : .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: APICoding.encoder.encode(body))))
    }

    private var cancellations: SubscriptionCancellation { SubscriptionCancellation(services: services) }
}

extension CancellationBody: ResponseEncodable {}
extension InvoiceBody: ResponseEncodable {}
