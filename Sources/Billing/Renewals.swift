import BillingCore
import Foundation
import PostgresNIO
import Storage

/// Automatic renewals: the renewal invoice a period's end calls for, charged by the saved card
/// outside any row lock; declines chased on the dunning schedule; past_due from the period's end
/// and expired after the grace. Each method is one job's work and safe to run again: what it finds
/// in the database (one renewal invoice per period, the declines so far) says what is left to do.
public struct Renewals: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    /// What a job asks of the worker once it has run.
    public enum Outcome: Equatable, Sendable {
        case done
        /// Not finished: run again at this time (an outcome to ask for, a grace to end).
        case runAgain(at: Date)
    }

    /// How long a charge with no answer waits before the acquirer is asked what became of it.
    static let settleAfter: TimeInterval = 60
    static let actor = "worker"
    static let noCard = Decline(code: 0, message: "No saved card to charge")

    /// What a job's transaction left to do once it committed.
    private enum Next {
        case nothing
        /// Not now: look again once a charge in flight has its outcome.
        case wait
        case charge(Invoice, token: String, description: String, idempotencyKey: String)
        case settle(Invoice)
    }

    /// The notice job of the period ending at `periodEnd`: tells the viewer when the renewal is
    /// charged, how much and to which card (`subscription.renewal_upcoming`, which mails them),
    /// if it is still to come.
    public func announce(subscriptionID: UUID, periodEnd: Date) async throws -> Outcome {
        try await services.database.journaledTransaction { connection, journal in
            let now = services.clock.now()
            let chargeAt = services.renewalTerms.chargeAt(periodEnd: periodEnd)
            guard now < chargeAt,
                  let subscription = try await services.subscriptions.lock(id: subscriptionID, on: connection),
                  subscription.status == .active, subscription.autoRenew, !subscription.cancelAtPeriodEnd,
                  let period = subscription.currentPeriod, JobKey(subscriptionID: subscriptionID, periodEnd: periodEnd).names(periodEnd: period.end),
                  let plan = try await services.plans.plan(id: subscription.planID, on: connection)
            else { return .done }
            let card = try await services.paymentMethods.cards(userID: subscription.userID, on: connection).first
            // Its id comes from the period: a notice job run twice (a worker that died before it
            // marked the job done) writes one event, so the viewer is told once.
            let id = UUID(named: "renewal_upcoming/\(JobKey(subscriptionID: subscriptionID, periodEnd: periodEnd))")
            journal.enqueue(.subscriptionRenewalUpcoming, .renewalUpcoming(subscription, chargeAt: chargeAt, amount: plan.price, card: card), at: now, id: id)
            return .done
        }
    }

    /// The renewal job of the period ending at `periodEnd`: issues the next period's invoice and
    /// charges the saved card.
    public func renew(subscriptionID: UUID, periodEnd: Date) async throws -> Outcome {
        let next = try await services.database.journaledTransaction { connection, journal -> Next in
            // The viewer's open invoice before the subscription, the order checkout and payments
            // lock them in: a card check or a stale checkout in the renewal's way is closed below.
            let open = try await services.invoices.lockOpen(ownerOf: subscriptionID, on: connection)
            guard var subscription = try await services.subscriptions.lock(id: subscriptionID, on: connection) else { return .nothing }
            let renewable = (subscription.status == .active || subscription.status == .pastDue)
                && subscription.currentPeriod.map { JobKey(subscriptionID: subscriptionID, periodEnd: periodEnd).names(periodEnd: $0.end) } == true
            // A charge in flight is settled whatever became of the subscription since: cancelled
            // while it was charged, its money must still be found and given back.
            if let issued = try await services.invoices.renewal(subscriptionID: subscription.id, periodStart: periodEnd, on: connection),
               renewable || issued.status == .pending {
                return try await resume(issued, on: connection, journal: &journal)
            }
            guard renewable, let period = subscription.currentPeriod else { return .nothing }
            guard subscription.autoRenew, !subscription.cancelAtPeriodEnd,
                  let plan = try await services.plans.plan(id: subscription.planID, on: connection)
            else { return .nothing }
            if var other = open, other.kind != .renewal {
                // One open invoice per viewer: the renewal goes first; one being paid is waited for.
                guard try await PaymentLedger(services: services).abandon(&other, actor: Self.actor, on: connection, journal: &journal) else {
                    throw BillingError.paymentInProgress(invoiceID: other.id)
                }
            }
            let card = try await services.paymentMethods.chargeable(userID: subscription.userID, on: connection)
            var invoice = Invoice(
                id: UUID(), userID: subscription.userID, subscriptionID: subscription.id, planID: plan.id, kind: .renewal,
                amount: plan.price, status: .created, acquirer: card?.acquirer ?? services.acquirers.primary.name, paymentMethodID: card?.id,
                period: period.next(months: plan.periodMonths, anchor: subscription.billingAnchor ?? period.start),
                failure: card == nil ? Self.noCard : nil, createdAt: services.clock.now()
            )
            try await services.invoices.insert(invoice, on: connection)
            journal.recordTransition(entity: "invoice", id: invoice.id, from: nil, to: invoice.status.rawValue, event: "renewal", actor: Self.actor)
            // Until the renewal is paid, access lasts through the grace after the period, and the
            // period's end makes the subscription past due.
            subscription.graceUntil = services.renewalTerms.dunning.accessEnds(periodEnd: period.end)
            try await services.subscriptions.update(subscription, on: connection)
            journal.schedule(.expiry, key: JobKey(subscriptionID: subscription.id, periodEnd: period.end), at: period.end)
            guard let card else {
                journal.enqueue(.invoicePaymentFailed, .invoice(invoice, card: nil), at: services.clock.now())
                return .nothing
            }
            try await PaymentLedger(services: services).chargeStarted(invoice: &invoice, actor: Self.actor, on: connection, journal: &journal)
            return .charge(invoice, token: card.token, description: plan.title, idempotencyKey: invoice.id.lowercased)
        }
        return try await carryOut(next)
    }

    /// A renewal invoice found issued when its job runs again (after a crash, a lost answer, a
    /// resumed cancellation): a charge in flight is settled with the acquirer; one that never
    /// left is sent now, under the same idempotency key; one whose money went back (cancelled
    /// while it was charged) is charged anew, under a new key; a declined one is the dunning
    /// schedule's.
    private func resume(_ issued: Invoice, on connection: PostgresConnection, journal: inout Journal) async throws -> Next {
        guard var invoice = try await services.invoices.lock(id: issued.id, on: connection) else { return .nothing }
        if invoice.status == .pending { return .settle(invoice) }
        let attempts = try await services.attempts.list(invoiceID: invoice.id, on: connection)
        guard invoice.status == .created, invoice.failure == nil,
              !attempts.contains(where: { $0.status == .started || $0.status == .declined }),
              let card = try await services.paymentMethods.chargeable(userID: invoice.userID, on: connection),
              let plan = try await services.plans.plan(id: invoice.planID, on: connection)
        else { return .nothing }
        invoice.paymentMethodID = card.id
        try await PaymentLedger(services: services).chargeStarted(invoice: &invoice, actor: Self.actor, on: connection, journal: &journal)
        let key = attempts.isEmpty ? invoice.id.lowercased : "\(invoice.id.lowercased)-again-\(attempts.count)"
        return .charge(invoice, token: card.token, description: plan.title, idempotencyKey: key)
    }

    /// A dunning retry: charges the renewal invoice again after its `failures`-th soft decline,
    /// with the viewer's current card (a new one saved meanwhile is used), while access lasts.
    public func retry(invoiceID: UUID, failures: Int64) async throws -> Outcome {
        let now = services.clock.now()
        let next = try await services.database.journaledTransaction { connection, journal -> Next in
            guard var invoice = try await services.invoices.lock(id: invoiceID, on: connection), invoice.kind == .renewal else { return .nothing }
            // Another job's charge is in flight (or its answer was lost: its own job, or
            // reconciliation, settles it): look again later.
            if invoice.status == .pending { return .wait }
            let declines = try await services.attempts.list(invoiceID: invoice.id, on: connection).filter { $0.status == .declined }.count
            // At least as many declines as when it was scheduled: one of the viewer's own tries on
            // the payment page (another card) adds one, and must not cancel this retry.
            guard invoice.status == .created, Int64(declines) >= failures,
                  let subscription = try await services.subscriptions.lock(id: invoice.subscriptionID, on: connection),
                  subscription.autoRenew, subscription.status == .active || subscription.status == .pastDue,
                  subscription.currentPeriod?.end == invoice.period?.start,
                  let accessEnd = subscription.accessEnd, now < accessEnd,
                  let card = try await services.paymentMethods.chargeable(userID: invoice.userID, on: connection),
                  let plan = try await services.plans.plan(id: invoice.planID, on: connection)
            else { return .nothing }
            invoice.paymentMethodID = card.id
            try await PaymentLedger(services: services).chargeStarted(invoice: &invoice, actor: Self.actor, on: connection, journal: &journal)
            return .charge(invoice, token: card.token, description: plan.title, idempotencyKey: "\(invoice.id.lowercased)-retry-\(failures)")
        }
        return try await carryOut(next)
    }

    /// The end of a period whose renewal was issued: unpaid at the period's end, the subscription
    /// is past due (access goes on through the grace); unpaid at the grace's end, it expires and
    /// its renewal invoice is closed.
    public func enforceDeadline(subscriptionID: UUID, periodEnd: Date) async throws -> Outcome {
        let now = services.clock.now()
        return try await services.database.journaledTransaction { connection, journal -> Outcome in
            // The invoice before the subscription: the order payments lock them in. The renewal is
            // found by the period end as stored (the one it was issued from), not the key's.
            let stored = try await services.subscriptions.find(id: subscriptionID, on: connection)?.currentPeriod?.end
            let issued = try await stored.asyncFlatMap { try await services.invoices.renewal(subscriptionID: subscriptionID, periodStart: $0, on: connection) }
            let invoice = try await issued.asyncFlatMap { try await services.invoices.lock(id: $0.id, on: connection) }
            guard var subscription = try await services.subscriptions.lock(id: subscriptionID, on: connection),
                  let period = subscription.currentPeriod, JobKey(subscriptionID: subscriptionID, periodEnd: periodEnd).names(periodEnd: period.end),
                  subscription.status == .active || subscription.status == .pastDue,
                  let accessEnd = subscription.accessEnd
            else { return .done }
            if now < period.end { return .runAgain(at: period.end) }
            // A charge of the renewal in flight decides; its outcome comes within a minute.
            if invoice?.status == .pending { return .runAgain(at: now.addingTimeInterval(Self.settleAfter)) }
            if now < accessEnd {
                if case .move(let from, let to) = subscription.status.applying(.renewalFailed) {
                    subscription.status = to
                    try await services.subscriptions.update(subscription, on: connection)
                    journal.recordTransition(entity: "subscription", id: subscription.id, from: from.rawValue, to: to.rawValue, event: SubscriptionEvent.renewalFailed.rawValue, actor: Self.actor)
                    journal.enqueue(.subscriptionPastDue, .subscription(subscription), at: services.clock.now())
                }
                return .runAgain(at: accessEnd)
            }
            _ = try await SubscriptionLapse(services: services).expire(&subscription, actor: Self.actor, on: connection, journal: &journal)
            if var open = invoice {
                _ = try await PaymentLedger(services: services).abandon(&open, actor: Self.actor, on: connection, journal: &journal)
            }
            return .done
        }
    }

    /// Sends the charge a job's transaction prepared, or settles one already sent.
    private func carryOut(_ next: Next) async throws -> Outcome {
        switch next {
        case .nothing:
            return .done
        case .wait:
            return .runAgain(at: services.clock.now().addingTimeInterval(Self.settleAfter))
        case .charge(let invoice, let token, let description, let key):
            let result = try await TokenCharge(services: services).charge(
                invoice, token: token, description: description, initiatedByCardholder: false, idempotencyKey: key
            )
            if case .settled = result { return .done }
            return .runAgain(at: services.clock.now().addingTimeInterval(Self.settleAfter))
        case .settle(let invoice):
            // Settled to "no payment made", the invoice is chargeable again: the job's next run sends it.
            let settled = try await Reconciliation(services: services).settle(pendingInvoice: invoice)
            return .runAgain(at: services.clock.now().addingTimeInterval(settled ? 0 : Self.settleAfter))
        }
    }
}
