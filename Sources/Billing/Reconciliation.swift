import Acquiring
import BillingCore
import Foundation
import Storage

/// Settles what is still open by asking the acquirer, never by guessing: attempts with no outcome,
/// pending invoices whose charge answer was lost, refunds not settled, and subscriptions whose
/// access has run out. `movix-billing reconcile` runs it once; a worker (`JobRunner.reconcile`) every minute.
public struct Reconciliation: Sendable {
    let services: BillingServices
    /// How long something may stay open before the acquirer is asked about it.
    let grace: TimeInterval
    /// How long an attempt may wait for its cardholder (3-D Secure) before it counts as abandoned.
    let abandonAfter: TimeInterval
    /// How long after the acquirer refused a refund of money we must give back it is tried again.
    let refundRetryAfter: TimeInterval

    public init(services: BillingServices, grace: TimeInterval = 5 * 60, abandonAfter: TimeInterval = 30 * 60, refundRetryAfter: TimeInterval = 60 * 60) {
        self.services = services
        self.grace = grace
        self.abandonAfter = abandonAfter
        self.refundRetryAfter = refundRetryAfter
    }

    /// What one run did.
    public struct Summary: Sendable, Equatable, CustomStringConvertible {
        public var attemptsSettled = 0
        public var attemptsAbandoned = 0
        public var invoicesSettled = 0
        public var refundsSent = 0
        public var refundsRetried = 0
        public var subscriptionsExpired = 0
        public var errors = 0

        public var description: String {
            "attempts settled \(attemptsSettled), abandoned \(attemptsAbandoned); invoices settled \(invoicesSettled); refunds sent \(refundsSent), retried \(refundsRetried); subscriptions expired \(subscriptionsExpired); errors \(errors)"
        }
    }

    public func run(limit: Int = 500) async -> Summary {
        var summary = Summary()
        let now = services.clock.now()
        let cutoff = now.addingTimeInterval(-grace)
        await settleAttempts(before: cutoff, now: now, limit: limit, into: &summary)
        await settleAttemptlessInvoices(before: cutoff, limit: limit, into: &summary)
        await resendRefunds(before: cutoff, firstSentAfter: now.addingTimeInterval(-Refund.resendWindow), limit: limit, into: &summary)
        await retryRefusedRefunds(before: now.addingTimeInterval(-refundRetryAfter), limit: limit, into: &summary)
        await retryCancellationRefunds(before: now.addingTimeInterval(-refundRetryAfter), limit: limit, into: &summary)
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
        let invoices = (try? await services.database.read { try await services.invoices.pendingWithoutStartedAttempt(before: cutoff, limit: limit, on: $0) }) ?? []
        for invoice in invoices {
            do {
                if try await settle(pendingInvoice: invoice) { summary.invoicesSettled += 1 }
            } catch {
                summary.errors += 1
                services.logger.warning("could not reconcile an invoice", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            }
        }
    }

    /// Asks the acquirer what became of a charge we sent for `invoice` and records it; returns
    /// whether the invoice left `pending` (paid, declined, or payable again: no payment was made).
    /// An attempt still under way (the viewer at 3-D Secure) keeps the invoice pending.
    func settle(pendingInvoice invoice: Invoice) async throws -> Bool {
        let ledger = PaymentLedger(services: services)
        let acquirer = try services.acquirers.acquirer(for: invoice)
        let actor = "reconciliation:\(acquirer.name)"
        let payment = try await acquirer.findPayment(invoiceID: invoice.id)
        let refunds = try await services.database.journaledTransaction { connection, journal -> [UUID] in
            switch payment?.state {
            case .succeeded:
                return try await ledger.attemptSucceeded(AttemptReport(payment!), acquirer: acquirer, actor: actor, on: connection, journal: &journal)
            case .declined(let decline):
                try await ledger.attemptDeclined(AttemptReport(payment!), decline: decline, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
            case .unfinished, nil:
                let underWay = try await services.attempts.list(invoiceID: invoice.id, on: connection).contains { $0.status == .started }
                if !underWay { try await ledger.noPaymentMade(invoiceID: invoice.id, actor: actor, on: connection, journal: &journal) }
            }
            return []
        }
        for id in refunds { await RefundEngine(services: services).submit(id) }
        let after = try await services.database.read { try await services.invoices.find(id: invoice.id, on: $0) }
        return after?.status != .pending
    }

    private func resendRefunds(before cutoff: Date, firstSentAfter: Date, limit: Int, into summary: inout Summary) async {
        let refunds = (try? await services.database.read { try await services.refunds.unsettled(before: cutoff, firstSentAfter: firstSentAfter, limit: limit, on: $0) }) ?? []
        for refund in refunds {
            await RefundEngine(services: services).submit(refund.id)
            summary.refundsSent += 1
        }
    }

    /// Money we must give back whose refund the acquirer refused: a new refund for what is left,
    /// so a refusal (a terminal out of balance, a glitch) does not leave it kept for good.
    private func retryRefusedRefunds(before cutoff: Date, limit: Int, into summary: inout Summary) async {
        let engine = RefundEngine(services: services)
        let attempts = (try? await services.database.read { try await services.attempts.unrefundedUnmatched(before: cutoff, limit: limit, on: $0) }) ?? []
        for (attempt, lastReason) in attempts {
            do {
                let refund = try await services.database.journaledTransaction { connection, journal -> Refund? in
                    guard let locked = try await services.attempts.lock(id: attempt.id, on: connection), locked.status == .succeeded else { return nil }
                    return try await engine.openRemainder(of: locked, reason: lastReason ?? .invoiceClosed, actor: "reconciliation", on: connection, journal: &journal)
                }
                if let refund {
                    await engine.submit(refund.id)
                    summary.refundsRetried += 1
                }
            } catch {
                summary.errors += 1
                services.logger.warning("could not retry a refund", metadata: ["attempt": "\(attempt.id)", "error": "\(error)"])
            }
        }
    }

    /// A cancellation whose refund the acquirer refused still owes the viewer: a new refund for
    /// what is missing, until the money is back.
    private func retryCancellationRefunds(before cutoff: Date, limit: Int, into summary: inout Summary) async {
        let engine = RefundEngine(services: services)
        let owing = (try? await services.database.read { try await services.cancellations.owingRefunds(before: cutoff, limit: limit, on: $0) }) ?? []
        for cancellation in owing {
            do {
                for id in try await SubscriptionCancellation(services: services).retryRefunds(of: cancellation, actor: "reconciliation") {
                    await engine.submit(id)
                    summary.refundsRetried += 1
                }
            } catch {
                summary.errors += 1
                services.logger.warning("could not retry a cancellation's refund", metadata: ["cancellation": "\(cancellation.id)", "error": "\(error)"])
            }
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
