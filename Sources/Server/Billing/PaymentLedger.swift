import BillingCore
import Foundation
import Metrics
import PostgresNIO
import Storage

/// Applies what acquirers report to invoices and subscriptions. Every method runs inside the
/// caller's transaction, locks the rows it changes, and records each move in the journal.
struct PaymentLedger: Sendable {
    let services: BillingServices

    /// A payment the acquirer reports taken.
    struct Payment: Sendable {
        var invoiceID: UUID
        var transactionID: String
        var paidAt: Date
        var card: CardDetails?
        var token: String?
    }

    /// Answers a Check and, when accepted, moves the invoice to `pending`.
    func check(invoiceID: UUID?, claim: PaymentClaim, actor: String, on connection: PostgresConnection, journal: inout Journal, now: Date = Date()) async throws -> CheckDecision {
        guard let invoiceID, var invoice = try await services.invoices.lock(id: invoiceID, on: connection) else { return .unknownInvoice }
        let facts = InvoiceForCheck(userID: invoice.userID, amount: invoice.amount, status: invoice.status, createdAt: invoice.createdAt)
        let decision = decideCheck(invoice: facts, claim: claim, now: now)
        if decision == .accept {
            try await move(&invoice, on: .paymentStarted, actor: actor, on: connection, journal: &journal)
        }
        return decision
    }

    /// Records a charge we sent ourselves (saved card): the invoice is `pending` until the outcome.
    func chargeStarted(invoice: inout Invoice, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        try await move(&invoice, on: .paymentStarted, actor: actor, on: connection, journal: &journal)
    }

    /// Marks the invoice paid and grants the period it buys; a repeat is a no-op. Returns whether
    /// anything changed.
    @discardableResult
    func paymentSucceeded(_ payment: Payment, acquirer: String, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> Bool {
        guard let locked = try await services.payments.lockForPayment(invoiceID: payment.invoiceID, on: connection) else {
            services.logger.error("payment for an unknown invoice", metadata: ["invoice": "\(payment.invoiceID)", "transaction": "\(payment.transactionID)"])
            return false
        }
        var invoice = locked.invoice
        guard case .move(let from, let to) = invoice.status.applying(.paymentSucceeded) else { return false }
        invoice.status = to
        invoice.acquirerTransactionID = payment.transactionID
        invoice.paidAt = payment.paidAt
        invoice.failure = nil

        var subscription = locked.subscription
        let extended = grantAccess(to: &subscription, for: &invoice, months: locked.periodMonths, paidAt: payment.paidAt, actor: actor, journal: &journal)
        let card = payment.token.map { PaymentRepository.CardToSave(acquirer: acquirer, token: $0, card: payment.card) }
        invoice.paymentMethodID = try await services.payments.recordPayment(invoice, subscription: extended ? subscription : nil, card: card, on: connection)

        journal.recordTransition(entity: "invoice", id: invoice.id, from: from.rawValue, to: to.rawValue, event: InvoiceEvent.paymentSucceeded.rawValue, actor: actor)
        journal.enqueueEvent(type: "invoice.paid", aggregateID: invoice.subscriptionID, payload: eventPayload(invoice))
        Counter(label: "movix_payments_total", dimensions: [("outcome", "paid")]).increment()
        return true
    }

    /// Marks the invoice failed with the decline; never touches a paid invoice.
    @discardableResult
    func paymentFailed(invoiceID: UUID, transactionID: String, decline: Decline, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> Bool {
        guard var invoice = try await services.invoices.lock(id: invoiceID, on: connection) else { return false }
        guard case .move = invoice.status.applying(.paymentFailed) else { return false }
        invoice.acquirerTransactionID = transactionID
        invoice.failure = decline
        try await move(&invoice, on: .paymentFailed, actor: actor, on: connection, journal: &journal)
        journal.enqueueEvent(type: "invoice.failed", aggregateID: invoice.subscriptionID, payload: eventPayload(invoice))
        Counter(label: "movix_payments_total", dimensions: [("outcome", "failed")]).increment()
        return true
    }

    /// Activates (or, for a second payment, extends) the subscription and sets the period the
    /// invoice bought; returns whether the subscription changed.
    private func grantAccess(to subscription: inout Subscription, for invoice: inout Invoice, months: Int, paidAt: Date, actor: String, journal: inout Journal) -> Bool {
        let event: SubscriptionEvent = subscription.status == .pending ? .activate : .renew
        guard case .move(let from, let to) = subscription.status.applying(event) else {
            services.logger.error("paid invoice cannot extend its subscription", metadata: ["invoice": "\(invoice.id)", "subscription_status": "\(subscription.status.rawValue)"])
            return false
        }
        // A second paid invoice (a late Pay for an abandoned attempt) extends access instead of overlapping it.
        let running = subscription.status == .pending ? nil : subscription.currentPeriod
        let bought = BillingPeriod.purchased(months: months, paidAt: paidAt, currentAccessEnd: running?.end)
        subscription.status = to
        subscription.planID = invoice.planID
        subscription.currentPeriod = BillingPeriod(start: running?.start ?? bought.start, end: bought.end)
        invoice.period = bought
        journal.recordTransition(entity: "subscription", id: subscription.id, from: from.rawValue, to: to.rawValue, event: event.rawValue, actor: actor)
        let type = event == .activate ? "subscription.activated" : "subscription.renewed"
        journal.enqueueEvent(type: type, aggregateID: subscription.id, payload: eventPayload(subscription))
        return true
    }

    private func move(_ invoice: inout Invoice, on event: InvoiceEvent, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        guard case .move(let from, let to) = invoice.status.applying(event) else { return }
        invoice.status = to
        try await services.invoices.update(invoice, on: connection)
        journal.recordTransition(entity: "invoice", id: invoice.id, from: from.rawValue, to: to.rawValue, event: event.rawValue, actor: actor)
    }

    private func eventPayload(_ invoice: Invoice) -> String {
        json([
            "invoice_id": invoice.id.lowercased, "user_id": invoice.userID.lowercased, "subscription_id": invoice.subscriptionID.lowercased,
            "status": invoice.status.rawValue, "amount": String(invoice.amount.amount), "currency": invoice.amount.currency.rawValue,
            "failure_code": invoice.failure.map { String($0.code) } ?? "",
        ])
    }

    private func eventPayload(_ subscription: Subscription) -> String {
        json([
            "subscription_id": subscription.id.lowercased, "user_id": subscription.userID.lowercased, "plan_id": subscription.planID.lowercased,
            "status": subscription.status.rawValue,
            "current_period_end": subscription.currentPeriod.map { $0.end.formatted(.iso8601) } ?? "",
        ])
    }

    private func json(_ fields: [String: String]) -> String {
        let data = (try? Self.eventEncoder.encode(fields)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static let eventEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
