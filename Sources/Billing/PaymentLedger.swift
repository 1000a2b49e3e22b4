import Acquiring
import BillingCore
import Foundation
import Metrics
import PostgresNIO
import Storage

/// Applies what acquirers report to attempts, invoices and subscriptions. Every method runs inside
/// the caller's transaction, locks rows in one order (invoice, subscription, attempt, refunds) so
/// that concurrent reports cannot deadlock, and records each move in the journal.
struct PaymentLedger: Sendable {
    let services: BillingServices

    private var refundEngine: RefundEngine { RefundEngine(services: services) }

    /// Answers a Check and, when accepted, starts an attempt and moves the invoice to `pending`.
    func check(transactionID: String, invoiceID: UUID?, claim: PaymentClaim, acquirer: any Acquirer, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> CheckDecision {
        guard let invoiceID, var invoice = try await services.invoices.lock(id: invoiceID, on: connection) else { return .unknownInvoice }
        let now = services.clock.now()
        let facts = InvoiceForCheck(accountID: acquirer.accountID(for: invoice.userID), amount: invoice.amount, status: invoice.status, createdAt: invoice.createdAt, kind: invoice.kind)
        let decision = decideCheck(invoice: facts, claim: claim, now: now)
        guard decision == .accept, let amount = claim.amount else { return decision }
        // A new attempt: the previous decline no longer describes where the payment stands.
        invoice.failure = nil
        try await move(&invoice, on: .paymentStarted, actor: actor, on: connection, journal: &journal, always: true)
        let fresh = PaymentAttempt(
            id: UUID(), acquirer: acquirer.name, transactionID: transactionID, invoiceID: invoice.id, claimedInvoiceID: invoiceID.lowercased,
            amount: amount, accountID: claim.accountID, status: .started, createdAt: now
        )
        let (attempt, inserted) = try await services.attempts.lockOrInsert(fresh, on: connection)
        if inserted { record(attempt, from: nil, event: .started, actor: actor, journal: &journal) }
        return decision
    }

    /// Records a charge we sent ourselves (saved card): the invoice is `pending` until the outcome.
    func chargeStarted(invoice: inout Invoice, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        invoice.failure = nil
        try await move(&invoice, on: .paymentStarted, actor: actor, on: connection, journal: &journal, always: true)
    }

    /// Money taken. The invoice is paid by its first matching attempt; any other money taken is
    /// refunded in full. Returns the refunds opened, to be sent once the transaction commits.
    func attemptSucceeded(_ report: AttemptReport, acquirer: any Acquirer, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> [UUID] {
        guard let amount = report.amount else { throw BillingError.malformedNotification("Amount is missing") }
        let now = services.clock.now()
        let locked = try await report.invoiceID.flatMap(UUID.init(uuidString:)).asyncFlatMap {
            try await services.payments.lockForPayment(invoiceID: $0, on: connection)
        }
        var (attempt, inserted) = try await services.attempts.lockOrInsert(PaymentAttempt(
            id: UUID(), acquirer: acquirer.name, transactionID: report.transactionID, invoiceID: locked?.invoice.id, claimedInvoiceID: report.invoiceID,
            amount: amount, accountID: report.accountID, status: .started, card: report.card, createdAt: now
        ), on: connection)
        if inserted { record(attempt, from: nil, event: .started, actor: actor, journal: &journal) }
        guard case .move(let from, let to) = attempt.status.applying(.succeeded) else { return [] }
        // What the acquirer reports taken is what counts, not what a Check claimed beforehand.
        attempt.status = to
        attempt.amount = amount
        attempt.accountID = report.accountID ?? attempt.accountID
        attempt.card = report.card ?? attempt.card
        attempt.decline = nil
        attempt.succeededAt = accessStart(reported: report.occurredAt, invoiceCreatedAt: locked?.invoice.createdAt ?? now, receivedAt: now)
        try await services.attempts.update(attempt, on: connection)
        record(attempt, from: from, event: .succeeded, actor: actor, journal: &journal)

        let facts = locked.map {
            InvoiceForPayment(amount: $0.invoice.amount, accountID: acquirer.accountID(for: $0.invoice.userID), status: $0.invoice.status, paidAttemptID: $0.invoice.paidAttemptID)
        }
        var disposition = dispose(attemptID: attempt.id, amount: amount, accountID: attempt.accountID, invoice: facts)
        if case .payInvoice = disposition, let locked {
            if attempt.invoiceID != locked.invoice.id {
                // The transaction was started (Checked) for another invoice than its Pay names.
                disposition = .refund(.unknownInvoice)
            } else if locked.invoice.kind != .cardCheck, !locked.subscription.canBePaidFor {
                disposition = .refund(.invoiceClosed)
            } else if !inserted, try await services.refunds.lockAll(attemptID: attempt.id, on: connection).contains(where: \.countsAgainstAttempt) {
                // Money already (partly) given back at the acquirer before its Pay reached us no
                // longer pays the whole invoice: what is left of it goes back too. (An attempt
                // this Pay just created has no refunds.)
                disposition = .refund(.amountMismatch)
            }
        }
        switch disposition {
        case .alreadyApplied:
            return []
        case .payInvoice:
            return try await pay(locked!, with: attempt, token: report.token, acquirer: acquirer.name, actor: actor, on: connection, journal: &journal)
        case .refund(let reason):
            services.logger.error("money taken that does not fit its invoice; refunding it in full", metadata: [
                "transaction": "\(attempt.transactionID)", "invoice": "\(report.invoiceID ?? "-")", "reason": "\(reason.rawValue)",
            ])
            journal.enqueue(.paymentUnmatched, .payment(attempt, reason: reason), at: services.clock.now())
            Counter(label: "movix_payments_total", dimensions: [("outcome", "refunded_" + reason.rawValue)]).increment()
            // Whatever was refunded already (at the acquirer, before this Pay reached us) is not refunded twice.
            let refund = try await refundEngine.openRemainder(of: attempt, reason: reason, actor: actor, on: connection, journal: &journal)
            // The invoice this money was meant for is payable again, unless another attempt is under
            // way; a renewal of a subscription that was cancelled or has ended is closed instead.
            if var open = locked?.invoice, open.status == .pending, try await !hasOtherAttemptUnderWay(open.id, besides: attempt.id, on: connection) {
                try await move(&open, on: .paymentFailed, actor: actor, on: connection, journal: &journal)
                if let subscription = locked?.subscription {
                    try await closeIfNotRenewing(&open, of: subscription, actor: actor, on: connection, journal: &journal)
                }
            }
            return refund.map { [$0.id] } ?? []
        }
    }

    /// A hold (a two-stage payment's authorisation): an attempt under way, not money. It pays
    /// nothing until a Confirm captures it; a Cancel (void) or reconciliation ends it.
    func attemptHeld(_ report: AttemptReport, acquirer: any Acquirer, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        _ = try await lockInvoiceAndAttempt(report, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
        services.logger.warning("a hold is not a payment; the invoice stays unpaid", metadata: ["transaction": "\(report.transactionID)", "invoice": "\(report.invoiceID ?? "-")"])
    }

    /// A declined attempt: it ends, and its invoice is payable again and shows the decline, unless
    /// another attempt for it is still under way (3-D Secure in another window).
    func attemptDeclined(_ report: AttemptReport, decline: Decline, acquirer: any Acquirer, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        let (invoice, lockedAttempt) = try await lockInvoiceAndAttempt(report, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
        var attempt = lockedAttempt
        let transition = attempt.status.applying(.declined)
        if case .refused = transition { return }
        if case .move(let from, let to) = transition {
            attempt.status = to
            attempt.decline = decline
            attempt.card = report.card ?? attempt.card
            try await services.attempts.update(attempt, on: connection)
            record(attempt, from: from, event: .declined, actor: actor, journal: &journal)
            Counter(label: "movix_payments_total", dimensions: [("outcome", "declined")]).increment()
        }
        // Also for a repeat: an invoice left pending by an answer that settled nothing is freed.
        guard var open = invoice, open.status.isOpen, try await !hasOtherAttemptUnderWay(open.id, besides: attempt.id, on: connection) else { return }
        let alreadyShown = open.status == .created && open.failure == decline
        open.failure = decline
        try await move(&open, on: .paymentFailed, actor: actor, on: connection, journal: &journal, always: true)
        if transition.isMove || !alreadyShown {
            journal.enqueue(.invoicePaymentFailed, .invoice(open, card: attempt.card), at: services.clock.now())
        }
        if transition.isMove, open.kind == .renewal {
            try await scheduleDunning(of: open, decline: decline, on: connection, journal: &journal)
        }
    }

    /// After a renewal charge is declined: the next try on the dunning schedule, if the decline
    /// is soft and the schedule has one left before access ends (whichever path reported it: the
    /// charge's answer, a notification, reconciliation).
    private func scheduleDunning(of invoice: Invoice, decline: Decline, on connection: PostgresConnection, journal: inout Journal) async throws {
        let declines = try await services.attempts.list(invoiceID: invoice.id, on: connection).filter { $0.status == .declined }
        guard let firstFailure = declines.map(\.createdAt).min(),
              let subscription = try await services.subscriptions.find(id: invoice.subscriptionID, on: connection),
              let accessEnd = subscription.accessEnd
        else { return }
        let next = services.renewalTerms.dunning.nextCharge(
            after: declines.count, firstFailure: firstFailure, kind: DeclineKind.of(code: decline.code), accessEnds: accessEnd
        )
        if let next {
            journal.schedule(.dunningRetry, key: JobKey(id: invoice.id, number: Int64(declines.count)), at: next)
        }
    }

    /// An attempt the acquirer voided (Cancel): a hold released, no money.
    func attemptVoided(transactionID: String, acquirer: any Acquirer, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        guard let attempt = try await services.attempts.find(acquirer: acquirer.name, transactionID: transactionID, on: connection) else { return }
        try await attemptAbandoned(attempt.id, actor: actor, on: connection, journal: &journal)
    }

    /// Locks the invoice a report names (when we have it), then its attempt, recording the
    /// attempt when this report is the first we hear of it. Reports that pay go through
    /// `PaymentRepository.lockForPayment` instead, which also locks the subscription.
    private func lockInvoiceAndAttempt(_ report: AttemptReport, acquirer: any Acquirer, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> (Invoice?, PaymentAttempt) {
        let invoice = try await report.invoiceID.flatMap(UUID.init(uuidString:)).asyncFlatMap {
            try await services.invoices.lock(id: $0, on: connection)
        }
        let (attempt, inserted) = try await services.attempts.lockOrInsert(PaymentAttempt(
            id: UUID(), acquirer: acquirer.name, transactionID: report.transactionID, invoiceID: invoice?.id, claimedInvoiceID: report.invoiceID,
            amount: report.amount ?? invoice?.amount ?? .rub(0), accountID: report.accountID, status: .started, card: report.card, createdAt: services.clock.now()
        ), on: connection)
        if inserted { record(attempt, from: nil, event: .started, actor: actor, journal: &journal) }
        return (invoice, attempt)
    }

    private func hasOtherAttemptUnderWay(_ invoiceID: UUID, besides attemptID: UUID, on connection: PostgresConnection) async throws -> Bool {
        try await services.attempts.list(invoiceID: invoiceID, on: connection).contains { $0.status == .started && $0.id != attemptID }
    }

    /// An attempt that never finished (3-D Secure left open): it ends, and its invoice is payable
    /// again unless another attempt is still under way.
    func attemptAbandoned(_ attemptID: UUID, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        guard let seen = try await services.attempts.find(id: attemptID, on: connection) else { return }
        let invoice = try await seen.invoiceID.asyncFlatMap { try await services.invoices.lock(id: $0, on: connection) }
        guard var attempt = try await services.attempts.lock(id: attemptID, on: connection),
              case .move(let from, let to) = attempt.status.applying(.abandoned)
        else { return }
        attempt.status = to
        try await services.attempts.update(attempt, on: connection)
        record(attempt, from: from, event: .abandoned, actor: actor, journal: &journal)
        guard var open = invoice, open.status == .pending, try await !hasOtherAttemptUnderWay(open.id, besides: attempt.id, on: connection) else { return }
        try await move(&open, on: .paymentFailed, actor: actor, on: connection, journal: &journal)
    }

    /// A pending invoice with no attempt the acquirer knows of (a charge whose answer was lost and
    /// that the acquirer never made): payable again, or closed when it renews a subscription that
    /// can no longer be renewed.
    func noPaymentMade(invoiceID: UUID, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        guard var invoice = try await services.invoices.lock(id: invoiceID, on: connection), invoice.status == .pending else { return }
        try await move(&invoice, on: .paymentFailed, actor: actor, on: connection, journal: &journal)
        if invoice.kind == .renewal, let subscription = try await services.subscriptions.lock(id: invoice.subscriptionID, on: connection) {
            try await closeIfNotRenewing(&invoice, of: subscription, actor: actor, on: connection, journal: &journal)
        }
    }

    /// A renewal made payable again (its charge refunded or never made) whose subscription no
    /// longer renews (cancelled, ended, or renewal switched off while it was charged) is closed,
    /// not left payable for a period nobody will get.
    private func closeIfNotRenewing(_ invoice: inout Invoice, of subscription: Subscription, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        guard invoice.kind == .renewal, !subscription.canBePaidFor || !subscription.autoRenew else { return }
        _ = try await abandon(&invoice, actor: actor, on: connection, journal: &journal)
    }

    /// Marks the invoice paid by `attempt` and grants the period it buys; a card check instead
    /// gives its ruble back. Returns the refunds opened.
    private func pay(_ locked: PaymentRepository.Locked, with attempt: PaymentAttempt, token: String?, acquirer: String, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> [UUID] {
        var invoice = locked.invoice
        guard case .move(let from, let to) = invoice.status.applying(.paymentSucceeded) else { return [] }
        let paidAt = attempt.succeededAt ?? services.clock.now()
        invoice.status = to
        invoice.acquirerTransactionID = attempt.transactionID
        invoice.paidAttemptID = attempt.id
        invoice.paidAt = paidAt
        invoice.failure = nil

        var subscription = locked.subscription
        let checksCard = invoice.kind == .cardCheck
        let extended = !checksCard && grantAccess(to: &subscription, for: &invoice, months: locked.periodMonths, paidAt: paidAt, savesCard: token != nil, actor: actor, journal: &journal)
        let card = token.map { PaymentRepository.CardToSave(acquirer: acquirer, token: $0, card: attempt.card) }
        invoice.paymentMethodID = try await services.payments.recordPayment(invoice, subscription: extended ? subscription : nil, card: card, on: connection)

        journal.recordTransition(entity: "invoice", id: invoice.id, from: from.rawValue, to: to.rawValue, event: InvoiceEvent.paymentSucceeded.rawValue, actor: actor)
        journal.enqueue(.invoicePaid, .invoice(invoice, card: attempt.card), at: services.clock.now())
        Counter(label: "movix_payments_total", dimensions: [("outcome", "paid")]).increment()
        guard checksCard else { return [] }
        // The card is saved (and now the default that renewals charge); the ruble goes back.
        if card != nil { journal.enqueue(.paymentMethodUpdated, .invoice(invoice, card: attempt.card), at: services.clock.now()) }
        let refund = try await refundEngine.open(
            for: attempt, amount: attempt.amount, reason: .cardCheck, comment: nil, actor: actor, cancellationID: nil, on: connection, journal: &journal
        )
        return [refund.id]
    }

    /// Activates (or, for a later payment, extends) the subscription and sets the period the
    /// invoice bought; returns whether the subscription changed. A first payment that saved a
    /// card turns automatic renewal on, as the checkout page says it will; every new period gets
    /// its renewal job, which decides when it runs whether to charge.
    private func grantAccess(to subscription: inout Subscription, for invoice: inout Invoice, months: Int, paidAt: Date, savesCard: Bool, actor: String, journal: inout Journal) -> Bool {
        let event: SubscriptionEvent = subscription.status == .pending ? .activate : .renew
        guard case .move(let from, let to) = subscription.status.applying(event) else { return false }
        let bought: BillingPeriod
        let start: Date
        if invoice.kind == .renewal, let renewed = invoice.period, let current = subscription.currentPeriod, current.end == renewed.start {
            // A renewal buys the period it was issued for, from the old end even when paid in the
            // grace after it: no gap, no overlap.
            bought = renewed
            start = current.start
        } else {
            // Access still running is extended from its end, on the billing anchor's day of the month;
            // access that lapsed (or never ran) starts again at the payment, which becomes the anchor.
            let running = subscription.currentPeriod.flatMap { $0.end > paidAt && subscription.status != .pending ? $0 : nil }
            bought = BillingPeriod.purchased(months: months, paidAt: paidAt, running: running, anchor: subscription.billingAnchor)
            subscription.billingAnchor = running.map { subscription.billingAnchor ?? $0.start } ?? bought.start
            start = running?.start ?? bought.start
        }
        if event == .activate, savesCard { subscription.autoRenew = true }
        subscription.status = to
        subscription.planID = invoice.planID
        subscription.currentPeriod = BillingPeriod(start: start, end: bought.end)
        subscription.graceUntil = nil
        invoice.period = bought
        journal.scheduleRenewal(of: subscription.id, periodEnd: bought.end, terms: services.renewalTerms)
        journal.recordTransition(entity: "subscription", id: subscription.id, from: from.rawValue, to: to.rawValue, event: event.rawValue, actor: actor)
        journal.enqueue(event == .activate ? .subscriptionActivated : .subscriptionRenewed, .subscription(subscription), at: services.clock.now())
        return true
    }

    /// Closes an open invoice nobody is paying (`created` → `canceled`); false when it cannot be
    /// (a payment is under way) or is closed already.
    func abandon(_ invoice: inout Invoice, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> Bool {
        guard invoice.status.applying(.abandoned).isMove else { return false }
        try await move(&invoice, on: .abandoned, actor: actor, on: connection, journal: &journal)
        return true
    }

    /// Moves the invoice and writes it back; `always` writes it even when its status stays, for
    /// changes beside the status (the last failure).
    private func move(_ invoice: inout Invoice, on event: InvoiceEvent, actor: String, on connection: PostgresConnection, journal: inout Journal, always: Bool = false) async throws {
        let transition = invoice.status.applying(event)
        if case .move(let from, let to) = transition {
            invoice.status = to
            journal.recordTransition(entity: "invoice", id: invoice.id, from: from.rawValue, to: to.rawValue, event: event.rawValue, actor: actor)
        } else if !always || transition != .alreadyApplied(invoice.status) {
            return
        }
        try await services.invoices.update(invoice, on: connection)
    }

    private func record(_ attempt: PaymentAttempt, from: AttemptStatus?, event: AttemptEvent, actor: String, journal: inout Journal) {
        journal.recordTransition(entity: "payment_attempt", id: attempt.id, from: from?.rawValue, to: attempt.status.rawValue, event: event.rawValue, actor: actor)
    }
}

extension Subscription {
    /// Whether a payment can still grant this subscription access: one that was canceled or has
    /// ended cannot take money for an initial invoice (that money is refunded).
    var canBePaidFor: Bool {
        status.applying(status == .pending ? .activate : .renew).isMove
    }
}

extension Transition {
    /// Whether the verdict changes the state.
    var isMove: Bool {
        if case .move = self { return true }
        return false
    }
}
