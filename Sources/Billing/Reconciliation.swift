import Acquiring
import BillingCore
import Foundation
import Storage

/// Settles what is still open by asking the acquirer, never by guessing: attempts with no outcome,
/// pending invoices whose charge answer was lost, refunds not settled, and subscriptions whose
/// access has run out. `movix-billing reconcile` runs it; `dev` runs it every minute.
public struct Reconciliation: Sendable {
    let services: BillingServices
    /// How long something may stay open before the acquirer is asked about it.
    let grace: TimeInterval
    /// How long an attempt may wait for its cardholder (3-D Secure) before it counts as abandoned.
    let abandonAfter: TimeInterval

    public init(services: BillingServices, grace: TimeInterval = 5 * 60, abandonAfter: TimeInterval = 30 * 60) {
        self.services = services
        self.grace = grace
        self.abandonAfter = abandonAfter
    }

    /// What one run did.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var attemptsSettled = 0
        public var attemptsAbandoned = 0
        public var invoicesReopened = 0
        public var refundsSent = 0
        public var subscriptionsExpired = 0
        public var errors = 0

        public var description: String {
            "attempts settled \(attemptsSettled), abandoned \(attemptsAbandoned); invoices reopened \(invoicesReopened); refunds sent \(refundsSent); subscriptions expired \(subscriptionsExpired); errors \(errors)"
        }
    }

    public func run(limit: Int = 500) async -> Summary {
        var summary = Summary()
        let now = services.clock.now()
        let cutoff = now.addingTimeInterval(-grace)
        await settleAttempts(before: cutoff, now: now, limit: limit, into: &summary)
        await settleAttemptlessInvoices(before: cutoff, limit: limit, into: &summary)
        await resendRefunds(before: cutoff, limit: limit, into: &summary)
        await expireLapsed(now: now, limit: limit, into: &summary)
        return summary
    }

    private func settleAttempts(before cutoff: Date, now: Date, limit: Int, into summary: inout Summary) async {
        let ledger = PaymentLedger(services: services)
        let attempts = (try? await services.database.read { try await services.attempts.started(before: cutoff, limit: limit, on: $0) }) ?? []
        for attempt in attempts {
            do {
                guard let acquirer = services.acquirers.acquirer(named: attempt.acquirer) else { throw BillingError.unknownAcquirer(attempt.acquirer) }
                let actor = "reconciliation:\(acquirer.name)"
                let payment = try await acquirer.findPayment(transactionID: attempt.transactionID)
                var report = payment.map(AttemptReport.init) ?? AttemptReport(transactionID: attempt.transactionID, invoiceID: nil, accountID: nil, amount: nil)
                report.invoiceID = report.invoiceID ?? attempt.claimedInvoiceID
                switch payment?.state {
                case .succeeded:
                    let refunds = try await services.database.journaledTransaction { connection, journal in
                        try await ledger.attemptSucceeded(report, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
                    }
                    for id in refunds { await RefundEngine(services: services).submit(id) }
                    summary.attemptsSettled += 1
                case .declined(let decline):
                    try await services.database.journaledTransaction { connection, journal in
                        try await ledger.attemptDeclined(report, decline: decline, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
                    }
                    summary.attemptsSettled += 1
                case .unfinished, nil:
                    // Still at 3-D Secure (or an uncaptured hold, which is not money): give the
                    // cardholder time, then let the invoice be paid another way.
                    guard attempt.createdAt < now.addingTimeInterval(-abandonAfter) else { continue }
                    try await services.database.journaledTransaction { connection, journal in
                        try await ledger.attemptAbandoned(attempt.id, actor: actor, on: connection, journal: &journal)
                    }
                    summary.attemptsAbandoned += 1
                }
            } catch {
                summary.errors += 1
                services.logger.warning("could not reconcile an attempt", metadata: ["attempt": "\(attempt.id)", "error": "\(error)"])
            }
        }
    }

    private func settleAttemptlessInvoices(before cutoff: Date, limit: Int, into summary: inout Summary) async {
        let ledger = PaymentLedger(services: services)
        let invoices = (try? await services.database.read { try await services.invoices.pendingWithoutStartedAttempt(before: cutoff, limit: limit, on: $0) }) ?? []
        for invoice in invoices {
            do {
                let acquirer = try services.acquirers.acquirer(for: invoice)
                let actor = "reconciliation:\(acquirer.name)"
                let payment = try await acquirer.findPayment(invoiceID: invoice.id)
                var refunds: [UUID] = []
                try await services.database.journaledTransaction { connection, journal in
                    switch payment?.state {
                    case .succeeded:
                        refunds = try await ledger.attemptSucceeded(AttemptReport(payment!), acquirer: acquirer, actor: actor, on: connection, journal: &journal)
                    case .declined(let decline):
                        try await ledger.attemptDeclined(AttemptReport(payment!), decline: decline, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
                    case .unfinished, nil:
                        try await ledger.noPaymentMade(invoiceID: invoice.id, actor: actor, on: connection, journal: &journal)
                    }
                }
                for id in refunds { await RefundEngine(services: services).submit(id) }
                summary.invoicesReopened += 1
            } catch {
                summary.errors += 1
                services.logger.warning("could not reconcile an invoice", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            }
        }
    }

    private func resendRefunds(before cutoff: Date, limit: Int, into summary: inout Summary) async {
        let refunds = (try? await services.database.read { try await services.refunds.unsettled(before: cutoff, limit: limit, on: $0) }) ?? []
        for refund in refunds {
            await RefundEngine(services: services).submit(refund.id)
            summary.refundsSent += 1
        }
    }

    private func expireLapsed(now: Date, limit: Int, into summary: inout Summary) async {
        let lapsed = (try? await services.database.read { try await services.subscriptions.lapsed(at: now, limit: limit, on: $0) }) ?? []
        for subscriptionID in lapsed {
            do {
                let expired = try await services.database.journaledTransaction { connection, journal in
                    try await SubscriptionLapse(services: services).expireIfLapsed(subscriptionID: subscriptionID, actor: "reconciliation", on: connection, journal: &journal)
                }
                if expired { summary.subscriptionsExpired += 1 }
            } catch {
                summary.errors += 1
                services.logger.warning("could not expire a subscription", metadata: ["subscription": "\(subscriptionID)", "error": "\(error)"])
            }
        }
    }
}
