import BillingCore
import Foundation
import PostgresNIO
import Storage

/// The viewer's end of a subscription: the cancellation quote, cancelling with its refund,
/// taking a cancellation back, and the renewal switch. Every change locks the subscription row
/// first, so concurrent requests queue there: however many ask, one cancellation and one refund
/// come of it (and `cancellations_one_per_subscription` says so in the database too).
public struct SubscriptionCancellation: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    /// A subscription as the viewer's account shows it.
    public struct Standing: Sendable {
        public var subscription: Subscription
        /// Its plan, as the account shows it.
        public var plan: Plan?
        /// The cancellation that stands, once the viewer cancelled.
        public var cancellation: Cancellation?
        /// The refunds the cancellation opened.
        public var refunds: [Refund]
        /// What cancelling now would give; nil when the subscription cannot be cancelled.
        public var quote: CancellationQuote?
        /// A refund of the running payments has no outcome yet, so no quote can be given.
        public var refundUnderWay = false
        /// What the cancellation's invoices could still give back.
        public var leftToRefund: Money?
        /// The policy the quote follows.
        public var policy: RefundPolicy

        /// What renews next, while the subscription renews automatically.
        public var nextCharge: NextCharge?

        /// Where the cancellation's money is.
        public var refundState: CancellationRefundState? { cancellation?.refundState(refunds, leftToRefund: leftToRefund) }
    }

    /// The next automatic charge: when, how much, which card; in dunning, the renewal left unpaid.
    public struct NextCharge: Sendable {
        /// When the card is charged next; nil when no automatic try is left (a hard decline, the
        /// schedule spent): only a new card can pay the renewal now.
        public var at: Date?
        public var amount: Money
        /// The card it charges (the viewer's default).
        public var card: SavedCard?
        /// The renewal whose charge was declined, payable with another card until access ends.
        public var unpaid: Invoice?
    }

    /// The viewer's latest subscription with its cancellation or, while it runs, the quote.
    public func standing(userID: UUID) async throws -> Standing? {
        let now = services.clock.now()
        return try await services.database.read { connection in
            guard let subscription = try await services.subscriptions.latest(userID: userID, on: connection) else { return nil }
            return try await standing(of: subscription, at: now, on: connection)
        }
    }

    /// Cancels the viewer's subscription under the refund policy and refunds what it gives back.
    /// `expectedRefund` is the amount the viewer saw: a quote that changed since (an hour passed,
    /// a month turned) is refused rather than silently applied. Asking again (with the same key,
    /// or any request once cancelled) answers with the cancellation that stands.
    public func cancel(userID: UUID, expectedRefund: Int64?, idempotencyKey: String?, actor: String) async throws -> Standing {
        let now = services.clock.now()
        // An answer found at once (a repeat), or the subscription just cancelled and its refunds.
        enum Outcome { case answered(Standing), cancelled(UUID, refunds: [UUID]) }
        let outcome = try await services.database.journaledTransaction { connection, journal -> Outcome in
            if let idempotencyKey, let earlier = try await services.cancellations.find(userID: userID, idempotencyKey: idempotencyKey, on: connection),
               let subscription = try await services.subscriptions.lock(id: earlier.subscriptionID, on: connection) {
                var standing = try await standing(of: subscription, at: now, on: connection)
                standing.cancellation = earlier
                standing.refunds = try await services.refunds.list(cancellationID: earlier.id, on: connection)
                return .answered(standing)
            }
            // A renewal invoice waiting for its charge (dunning) is closed with the cancellation;
            // locked before the subscription, the order payments lock them in.
            let openInvoice = try await services.invoices.lockOpen(userID: userID, on: connection)
            guard var subscription = try await services.subscriptions.lockCurrent(userID: userID, on: connection) else {
                // Access that ended at once was expired in the cancelling transaction.
                if let latest = try await services.subscriptions.latest(userID: userID, on: connection),
                   try await services.cancellations.standing(subscriptionID: latest.id, on: connection) != nil {
                    return .answered(try await standing(of: latest, at: now, on: connection))
                }
                throw BillingError.noSubscription
            }
            if subscription.status == .canceled {
                return .answered(try await standing(of: subscription, at: now, on: connection))
            }
            let status = subscription.effectiveStatus(at: now)
            guard status == .active, let period = subscription.currentPeriod else { throw BillingError.subscriptionNotCancelable(status) }
            let paid = try await refundableInvoices(subscription.id, at: now, locking: true, on: connection)
            // A refund still being sent counts as money back until the acquirer answers; should it
            // fail, a quote that counted it would have given the viewer nothing. So wait for it
            // (one past its resend window stays counted: it is an operator's now, never refunded twice).
            guard !paid.contains(where: \.refundUnderWay) else { throw BillingError.refundInProgress }
            guard let quote = services.refundPolicy.quote(for: paid.map(\.refundable), at: now) else { throw BillingError.subscriptionNotCancelable(status) }
            if let expectedRefund, expectedRefund != quote.refund.amount { throw BillingError.quoteChanged(refund: quote.refund) }

            let cancellation = Cancellation(
                id: UUID(), subscriptionID: subscription.id, userID: userID, policy: services.refundPolicy, rule: quote.rule, refund: quote.refund,
                unusedMonths: quote.unusedMonths, accessUntil: min(quote.accessUntil, period.end), periodEnd: period.end,
                autoRenewBefore: subscription.autoRenew, idempotencyKey: idempotencyKey, actor: actor, requestedAt: now
            )
            try await services.cancellations.insert(cancellation, on: connection)
            var refunds: [Refund] = []
            for share in quote.shares {
                guard let attempt = paid.first(where: { $0.refundable.invoiceID == share.invoiceID })?.attempt else { continue }
                refunds.append(try await RefundEngine(services: services).open(
                    for: attempt, amount: share.amount, reason: .cancellation, comment: nil, actor: actor, cancellationID: cancellation.id,
                    on: connection, journal: &journal
                ))
            }

            guard case .move(let from, let to) = subscription.status.applying(.cancel) else { throw BillingError.subscriptionNotCancelable(status) }
            subscription.status = to
            subscription.autoRenew = false
            subscription.cancelAtPeriodEnd = true
            // Access ends as the quote says, not after a renewal's grace.
            subscription.graceUntil = nil
            subscription.currentPeriod = BillingPeriod(start: period.start, end: max(period.start, cancellation.accessUntil))
            try await services.subscriptions.update(subscription, on: connection)
            journal.recordTransition(entity: "subscription", id: subscription.id, from: from.rawValue, to: to.rawValue, event: SubscriptionEvent.cancel.rawValue, actor: actor)
            journal.enqueue(.subscriptionCanceled, .canceled(subscription, cancellation), at: cancellation.requestedAt)
            if var renewal = openInvoice, renewal.kind == .renewal, renewal.subscriptionID == subscription.id {
                _ = try await PaymentLedger(services: services).abandon(&renewal, actor: actor, on: connection, journal: &journal)
            }
            // Refunded in full: access ends now, and the subscription with it.
            _ = try await SubscriptionLapse(services: services).expire(&subscription, actor: actor, on: connection, journal: &journal)
            return .cancelled(subscription.id, refunds: refunds.map(\.id))
        }
        switch outcome {
        case .answered(let standing):
            return standing
        case .cancelled(let subscriptionID, let refundIDs):
            // Sent after the commit, outside any lock; a crash in between leaves them for reconciliation.
            for id in refundIDs { await RefundEngine(services: services).submit(id) }
            return try await services.database.read { connection in
                guard let subscription = try await services.subscriptions.find(id: subscriptionID, on: connection) else { throw BillingError.noSubscription }
                return try await standing(of: subscription, at: services.clock.now(), on: connection)
            }
        }
    }

    /// Takes back a cancellation that refunded nothing, before its access ends: the subscription
    /// is active again and renews as it did before. Resuming an active subscription changes nothing.
    public func resume(userID: UUID, actor: String) async throws -> Standing {
        let now = services.clock.now()
        return try await services.database.journaledTransaction { connection, journal in
            guard var subscription = try await services.subscriptions.lockCurrent(userID: userID, on: connection) else { throw BillingError.noSubscription }
            let cancellation = try await services.cancellations.standing(subscriptionID: subscription.id, on: connection)
            if subscription.effectiveStatus(at: now) == .active, cancellation == nil {
                return try await standing(of: subscription, at: now, on: connection)
            }
            guard subscription.status == .canceled, let cancellation, case .move(let from, let to) = subscription.status.applying(.resume) else {
                throw BillingError.cannotResume("Only a cancelled subscription can be resumed; yours is \(subscription.effectiveStatus(at: now).rawValue).")
            }
            guard cancellation.canResume(at: now) else {
                throw BillingError.cannotResume(cancellation.refund.amount > 0
                    ? "The cancellation refunded money, so it cannot be taken back; subscribe again once access ends."
                    : "Access ended \(cancellation.accessUntil.formatted(.iso8601)); subscribe again.")
            }
            subscription.status = to
            subscription.autoRenew = cancellation.autoRenewBefore
            subscription.cancelAtPeriodEnd = false
            subscription.currentPeriod = subscription.currentPeriod.map { BillingPeriod(start: $0.start, end: cancellation.periodEnd) }
            try await services.subscriptions.update(subscription, on: connection)
            try await services.cancellations.markResumed(cancellation.id, at: now, on: connection)
            journal.recordTransition(entity: "subscription", id: subscription.id, from: from.rawValue, to: to.rawValue, event: SubscriptionEvent.resume.rawValue, actor: actor)
            journal.enqueue(.subscriptionResumed, .subscription(subscription), at: now)
            scheduleRenewal(of: subscription, journal: &journal)
            return try await standing(of: subscription, at: now, on: connection)
        }
    }

    /// Turns automatic renewal on or off for an active subscription; on needs a saved card. Off
    /// also stops a declined renewal (past due too): its invoice is closed and no retry comes;
    /// access ends with the paid period, since no renewal means no grace.
    public func setAutoRenew(userID: UUID, enabled: Bool, actor: String) async throws -> Standing {
        let now = services.clock.now()
        return try await services.database.journaledTransaction { connection, journal in
            // Locked before the subscription, the order payments lock them in.
            let open = enabled ? nil : try await services.invoices.lockOpen(userID: userID, on: connection)
            guard var subscription = try await services.subscriptions.lockCurrent(userID: userID, on: connection) else { throw BillingError.noSubscription }
            let status = subscription.effectiveStatus(at: now)
            guard status == .active || (status == .pastDue && !enabled) else { throw BillingError.subscriptionNotCancelable(status) }
            if subscription.autoRenew != enabled {
                if enabled, try await services.paymentMethods.cards(userID: userID, on: connection).isEmpty { throw BillingError.noCardToRenew }
                if var renewal = open, renewal.kind == .renewal, renewal.subscriptionID == subscription.id {
                    guard try await PaymentLedger(services: services).abandon(&renewal, actor: actor, on: connection, journal: &journal) else {
                        throw BillingError.paymentInProgress(invoiceID: renewal.id)
                    }
                    subscription.graceUntil = nil
                }
                subscription.autoRenew = enabled
                subscription.cancelAtPeriodEnd = !enabled
                try await services.subscriptions.update(subscription, on: connection)
                journal.recordTransition(entity: "subscription", id: subscription.id, from: status.rawValue, to: status.rawValue, event: enabled ? "auto_renew_on" : "auto_renew_off", actor: actor)
                if enabled { scheduleRenewal(of: subscription, journal: &journal) }
                // Past due without its grace: access is over.
                _ = try await SubscriptionLapse(services: services).expire(&subscription, actor: actor, on: connection, journal: &journal)
            }
            return try await standing(of: subscription, at: now, on: connection)
        }
    }

    /// Makes sure the current period's renewal job is waiting (it may have run and found
    /// auto-renew off); whether it charges is decided when it runs.
    private func scheduleRenewal(of subscription: Subscription, journal: inout Journal) {
        guard let end = subscription.currentPeriod?.end else { return }
        journal.scheduleRenewal(of: subscription.id, periodEnd: end, terms: services.renewalTerms)
    }

    /// Opens new refunds for what a cancellation still owes after the acquirer refused its
    /// refund, latest invoice first; returns their ids for sending.
    func retryRefunds(of owing: Cancellation, actor: String) async throws -> [UUID] {
        try await services.database.journaledTransaction { connection, journal in
            guard try await services.subscriptions.lock(id: owing.subscriptionID, on: connection) != nil,
                  let cancellation = try await services.cancellations.standing(subscriptionID: owing.subscriptionID, on: connection),
                  cancellation.id == owing.id
            else { return [] }
            let refunds = try await services.refunds.list(cancellationID: cancellation.id, on: connection)
            let owed = cancellation.unrefunded(refunds)
            guard owed.amount > 0, !refunds.contains(where: \.isUnsettled) else { return [] }
            let paid = try await invoicesRefunded(by: refunds, of: cancellation.subscriptionID, locking: true, on: connection)
            var opened: [UUID] = []
            for share in RefundPolicy.allocate(owed, over: paid.map(\.refundable)) {
                guard let attempt = paid.first(where: { $0.refundable.invoiceID == share.invoiceID })?.attempt else { continue }
                let refund = try await RefundEngine(services: services).open(
                    for: attempt, amount: share.amount, reason: .cancellation, comment: nil, actor: actor, cancellationID: cancellation.id,
                    on: connection, journal: &journal
                )
                opened.append(refund.id)
            }
            return opened
        }
    }

    /// A paid invoice with the attempt that paid it and what of it can still be refunded.
    private struct PaidInvoice {
        var refundable: RefundableInvoice
        var attempt: PaymentAttempt
        /// A refund of its payment waits for an outcome that will come (it is still being sent):
        /// what is left to refund is not known yet.
        var refundUnderWay: Bool
        /// What its refunds have given back for certain.
        var refunded: Money
    }

    /// The subscription's paid invoices whose period runs past `now` (all of them when nil); with
    /// `locking`, their attempts and refunds are locked, so what is refundable stays so.
    private func refundableInvoices(_ subscriptionID: UUID, at now: Date?, locking: Bool, on connection: PostgresConnection) async throws -> [PaidInvoice] {
        var found: [PaidInvoice] = []
        let checkedAt = services.clock.now()
        for invoice in try await services.invoices.paidRunning(subscriptionID: subscriptionID, at: now ?? .distantPast, on: connection) {
            guard let attemptID = invoice.paidAttemptID, let period = invoice.period, let paidAt = invoice.paidAt,
                  let plan = try await services.plans.plan(id: invoice.planID, on: connection),
                  let attempt = try await locking ? services.attempts.lock(id: attemptID, on: connection) : services.attempts.find(id: attemptID, on: connection)
            else { continue }
            let refunds = try await locking ? services.refunds.lockAll(attemptID: attemptID, on: connection) : services.refunds.list(attemptID: attemptID, on: connection)
            let paid = PaidPeriod(period: period, months: plan.periodMonths, price: invoice.amount, paidAt: paidAt)
            found.append(PaidInvoice(
                refundable: RefundableInvoice(invoiceID: invoice.id, paid: paid, refundable: refundableAmount(of: attempt.amount, after: refunds)),
                // One still pending past the resend window is no longer sent: its outcome waits for
                // an operator (the audit lists it), and it counts as given back, never twice.
                attempt: attempt, refundUnderWay: refunds.contains { $0.isBeingSent(at: checkedAt) },
                refunded: Money(amount: refunds.refundedAmount, currency: attempt.amount.currency)
            ))
        }
        return found
    }

    /// The paid invoices a cancellation's refunds give money back from.
    private func invoicesRefunded(by refunds: [Refund], of subscriptionID: UUID, locking: Bool, on connection: PostgresConnection) async throws -> [PaidInvoice] {
        let invoiceIDs = Set(refunds.compactMap(\.invoiceID))
        return try await refundableInvoices(subscriptionID, at: nil, locking: locking, on: connection).filter { invoiceIDs.contains($0.refundable.invoiceID) }
    }

    private func standing(of subscription: Subscription, at now: Date, on connection: PostgresConnection) async throws -> Standing {
        let cancellation = try await services.cancellations.standing(subscriptionID: subscription.id, on: connection)
        let refunds = try await cancellation.asyncFlatMap { try await services.refunds.list(cancellationID: $0.id, on: connection) } ?? []
        var quote: CancellationQuote?
        var refundUnderWay = false
        var leftToRefund: Money?
        if cancellation == nil, subscription.effectiveStatus(at: now) == .active {
            let paid = try await refundableInvoices(subscription.id, at: now, locking: false, on: connection)
            refundUnderWay = paid.contains(where: \.refundUnderWay)
            quote = refundUnderWay ? nil : services.refundPolicy.quote(for: paid.map(\.refundable), at: now)
        } else if let cancellation {
            let paid = try await invoicesRefunded(by: refunds, of: subscription.id, locking: false, on: connection)
            // Only refunds done for certain: while one is pending the money is not back yet.
            leftToRefund = Money(amount: paid.reduce(0) { $0 + $1.attempt.amount.amount - $1.refunded.amount }, currency: cancellation.refund.currency)
        }
        let plan = try await services.plans.plan(id: subscription.planID, on: connection)
        return Standing(
            subscription: subscription, plan: plan, cancellation: cancellation, refunds: refunds, quote: quote, refundUnderWay: refundUnderWay,
            leftToRefund: leftToRefund, policy: services.refundPolicy, nextCharge: try await nextCharge(of: subscription, plan: plan, at: now, on: connection)
        )
    }

    private func nextCharge(of subscription: Subscription, plan: Plan?, at now: Date, on connection: PostgresConnection) async throws -> NextCharge? {
        let status = subscription.effectiveStatus(at: now)
        guard subscription.autoRenew, !subscription.cancelAtPeriodEnd, status == .active || status == .pastDue,
              let period = subscription.currentPeriod, let plan
        else { return nil }
        // The first card is the one renewals charge.
        let card = try await services.paymentMethods.cards(userID: subscription.userID, on: connection).first
        guard let renewal = try await services.invoices.renewal(subscriptionID: subscription.id, periodStart: period.end, on: connection) else {
            return NextCharge(at: max(now, services.renewalTerms.chargeAt(periodEnd: period.end)), amount: plan.price, card: card)
        }
        guard renewal.status == .created else {
            // Being charged now (pending), or closed with the subscription.
            return renewal.status == .pending ? NextCharge(at: now, amount: renewal.amount, card: card) : nil
        }
        let retry = try await services.jobs.nextRun(.dunningRetry, about: renewal.id, on: connection)
        return NextCharge(at: retry, amount: renewal.amount, card: card, unpaid: renewal)
    }
}
