import Acquiring
import BillingCore
import Crypto
import Foundation
import PostgresNIO
import Storage

/// Gives money back: opens refunds within what their attempt took, sends them to the acquirer
/// outside any row lock (the refund id is the request id, so sending again is safe), and settles
/// them from the acquirer's answer or its Refund notification, whichever comes first.
public struct RefundEngine: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    /// Opens a refund of `amount` (all that is left when nil) of an attempt the caller has locked.
    /// The attempt's lock serialises refunds, so together they never exceed what it took.
    func open(for attempt: PaymentAttempt, amount: Money?, reason: RefundReason, comment: String?, actor: String, id: UUID = UUID(), cancellationID: UUID? = nil, on connection: PostgresConnection, journal: inout Journal) async throws -> Refund {
        let existing = try await services.refunds.lockAll(attemptID: attempt.id, on: connection)
        let refundable = attempt.status == .succeeded ? refundableAmount(of: attempt.amount, after: existing) : Money(amount: 0, currency: attempt.amount.currency)
        let amount = amount ?? refundable
        guard amount.currency == refundable.currency, amount.amount > 0, amount.amount <= refundable.amount else {
            throw BillingError.refundExceedsPayment(refundable: refundable)
        }
        let refund = Refund(
            id: id, attemptID: attempt.id, invoiceID: attempt.invoiceID, acquirer: attempt.acquirer, amount: amount,
            status: .created, reason: reason, comment: comment, cancellationID: cancellationID, actor: actor, createdAt: services.clock.now()
        )
        try await services.refunds.insert(refund, on: connection)
        journal.recordTransition(entity: "refund", id: refund.id, from: nil, to: refund.status.rawValue, event: "created", actor: actor)
        return refund
    }

    /// Opens a refund of all that is left of a locked attempt; nil when nothing is left (the
    /// acquirer refunded it already, or it took nothing).
    func openRemainder(of attempt: PaymentAttempt, reason: RefundReason, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws -> Refund? {
        let existing = try await services.refunds.lockAll(attemptID: attempt.id, on: connection)
        guard refundableAmount(of: attempt.amount, after: existing).amount > 0 else { return nil }
        return try await open(for: attempt, amount: nil, reason: reason, comment: nil, actor: actor, on: connection, journal: &journal)
    }

    /// An operator's refund of a paid invoice: part (`amount`) or all that is left of its payment.
    /// With an idempotency key the refund's id comes from the key, so asking again (a double click,
    /// a retried request) finds the same refund instead of opening a second one.
    public func refundInvoice(_ invoiceID: UUID, amount: Int64?, comment: String, actor: String, idempotencyKey: String?) async throws -> Refund {
        let refund = try await services.database.journaledTransaction { connection, journal -> Refund in
            guard let invoice = try await services.invoices.find(id: invoiceID, on: connection) else { throw BillingError.invoiceNotFound(invoiceID.lowercased) }
            guard invoice.status == .paid, let attemptID = invoice.paidAttemptID,
                  let attempt = try await services.attempts.lock(id: attemptID, on: connection)
            else { throw BillingError.invoiceNotRefundable(invoice.status) }
            let money = amount.map { Money(amount: $0, currency: invoice.amount.currency) }
            let id = idempotencyKey.map { Self.refundID(invoiceID: invoiceID, idempotencyKey: $0) } ?? UUID()
            // The attempt is locked: a concurrent request with the same key waits here, then finds it.
            if idempotencyKey != nil, let earlier = try await services.refunds.find(id: id, on: connection) {
                guard money == nil || money == earlier.amount, earlier.comment == comment else { throw BillingError.idempotencyKeyReused }
                return earlier
            }
            return try await open(for: attempt, amount: money, reason: .requestedByOperator, comment: comment, actor: actor, id: id, on: connection, journal: &journal)
        }
        await submit(refund.id)
        return try await services.database.read { try await services.refunds.find(id: refund.id, on: $0) } ?? refund
    }

    /// A refund id that only this invoice and key produce (SHA-256, shaped as a UUID).
    static func refundID(invoiceID: UUID, idempotencyKey: String) -> UUID {
        UUID(named: "refund/\(invoiceID.lowercased)/\(idempotencyKey)")
    }

    /// Sends a refund to the acquirer and records the answer. Called again for a refund whose
    /// answer was lost: the acquirer replays its first answer to the same request id.
    public func submit(_ refundID: UUID) async {
        do {
            let actor = "billing"
            let sending = try await services.database.journaledTransaction { connection, journal -> (Refund, String)? in
                guard var refund = try await services.refunds.lock(id: refundID, on: connection) else { return nil }
                switch refund.status.applying(.submitted) {
                case .move(let from, let to):
                    refund.status = to
                    refund.submittedAt = services.clock.now()
                    try await services.refunds.update(refund, on: connection)
                    journal.recordTransition(entity: "refund", id: refund.id, from: from.rawValue, to: to.rawValue, event: RefundEvent.submitted.rawValue, actor: actor)
                case .alreadyApplied: break
                case .refused: return nil
                }
                guard let attempt = try await services.attempts.find(id: refund.attemptID, on: connection) else { return nil }
                return (refund, attempt.transactionID)
            }
            guard let (refund, paymentTransactionID) = sending else { return }
            guard let acquirer = services.acquirers.acquirer(named: refund.acquirer) else { throw BillingError.unknownAcquirer(refund.acquirer) }
            let outcome: RefundOutcome
            do {
                outcome = try await acquirer.refund(transactionID: paymentTransactionID, amount: refund.amount, idempotencyKey: refund.id.lowercased)
            } catch {
                services.logger.warning("refund outcome unknown; reconciliation will send it again", metadata: ["refund": "\(refund.id)", "error": "\(error)"])
                return
            }
            try await services.database.journaledTransaction { connection, journal in
                // The attempt, then its refunds: the order a Refund notification locks in, so an
                // answer and a notification about refunds of one payment queue, never deadlock.
                _ = try await services.attempts.lock(id: refund.attemptID, on: connection)
                let siblings = try await services.refunds.lockAll(attemptID: refund.attemptID, on: connection)
                guard var locked = siblings.first(where: { $0.id == refund.id }) else { return }
                let actor = "acquirer:\(acquirer.name)"
                // A Refund notification settled this refund by its amount before this answer came;
                // an answer that disagrees shows that notification was another refund's (one made
                // in the acquirer's dashboard at the same time): it is booked as that refund.
                let matchedByNotification = locked.status == .refunded ? locked.acquirerRefundID : nil
                switch outcome {
                case .succeeded(let refundTransactionID):
                    if let other = matchedByNotification, other != refundTransactionID {
                        locked.acquirerRefundID = refundTransactionID
                        try await services.refunds.update(locked, on: connection)
                        try await recordMadeAtAcquirer(amount: locked.amount, acquirerRefundID: other, attemptID: locked.attemptID, invoiceID: locked.invoiceID, acquirer: locked.acquirer, actor: actor, on: connection, journal: &journal)
                        return
                    }
                    // This refund's Refund notification came first and was taken, by its amount, for
                    // another of ours whose own answer was lost: that one's outcome is unknown again,
                    // and reconciliation sends it again.
                    if var mistaken = siblings.first(where: { $0.id != locked.id && $0.acquirerRefundID == refundTransactionID }),
                       case .move(let from, let to) = mistaken.status.applying(.misattributed) {
                        mistaken.status = to
                        mistaken.acquirerRefundID = nil
                        mistaken.settledAt = nil
                        try await services.refunds.update(mistaken, on: connection)
                        journal.recordTransition(entity: "refund", id: mistaken.id, from: from.rawValue, to: to.rawValue, event: RefundEvent.misattributed.rawValue, actor: actor)
                    }
                    settle(&locked, .succeeded, acquirerRefundID: refundTransactionID, failureMessage: nil, actor: actor, journal: &journal)
                case .rejected(let message):
                    services.logger.error("the acquirer refused a refund", metadata: ["refund": "\(refund.id)", "message": "\(message)"])
                    if let other = matchedByNotification {
                        locked.status = .failed
                        locked.acquirerRefundID = nil
                        locked.failureMessage = message
                        try await services.refunds.update(locked, on: connection)
                        journal.recordTransition(entity: "refund", id: locked.id, from: RefundStatus.refunded.rawValue, to: RefundStatus.failed.rawValue, event: "answer_refused_after_notification", actor: actor)
                        journal.enqueue(.refundFailed, .refund(locked), at: services.clock.now())
                        try await recordMadeAtAcquirer(amount: locked.amount, acquirerRefundID: other, attemptID: locked.attemptID, invoiceID: locked.invoiceID, acquirer: locked.acquirer, actor: actor, on: connection, journal: &journal)
                        return
                    }
                    settle(&locked, .rejected, acquirerRefundID: nil, failureMessage: message, actor: actor, journal: &journal)
                }
                try await services.refunds.update(locked, on: connection)
            }
        } catch {
            services.logger.error("could not send a refund", metadata: ["refund": "\(refundID)", "error": "\(String(reflecting: error))"])
        }
    }

    /// Sends refunds in the background, after the transaction that opened them committed; a crash
    /// in between leaves them `created`, and reconciliation sends them.
    func submitInBackground(_ refundIDs: [UUID]) {
        guard !refundIDs.isEmpty else { return }
        Task { for id in refundIDs { await submit(id) } }
    }

    /// A Refund notification: settles the refund it reports, or records one made elsewhere (the
    /// acquirer's dashboard), so every kopeck that left is on the books.
    func refundNotified(refundTransactionID: String, paymentTransactionID: String?, amount: Money?, acquirer: String, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        guard let paymentTransactionID,
              let attempt = try await services.attempts.lock(acquirer: acquirer, transactionID: paymentTransactionID, on: connection)
        else {
            services.logger.error("refund notification for a payment we do not know", metadata: ["refund_transaction": "\(refundTransactionID)", "payment_transaction": "\(paymentTransactionID ?? "-")"])
            return
        }
        let refunds = try await services.refunds.lockAll(attemptID: attempt.id, on: connection)
        // Ours, already known by id; or ours that was sent and whose answer we have not seen yet
        // (it timed out). A `created` one was not sent yet, so this notification is not about it.
        let known = refunds.first { $0.acquirerRefundID == refundTransactionID }
            ?? refunds.first { $0.acquirerRefundID == nil && $0.amount == amount && $0.status == .pending }
        if var refund = known {
            settle(&refund, .succeeded, acquirerRefundID: refundTransactionID, failureMessage: nil, actor: actor, journal: &journal)
            try await services.refunds.update(refund, on: connection)
            return
        }
        guard let amount, amount.amount > 0 else {
            services.logger.error("refund notification without an amount", metadata: ["refund_transaction": "\(refundTransactionID)"])
            return
        }
        if let other = try await services.refunds.find(acquirer: acquirer, acquirerRefundID: refundTransactionID, on: connection) {
            services.logger.error("refund notification reuses a refund id recorded for another payment", metadata: [
                "refund_transaction": "\(refundTransactionID)", "recorded_for": "\(other.attemptID)", "named_payment": "\(paymentTransactionID)",
            ])
            return
        }
        if amount.amount > refundableAmount(of: attempt.amount, after: refunds).amount {
            services.logger.error("the acquirer refunded more than is left of a payment", metadata: ["attempt": "\(attempt.id)", "refund_transaction": "\(refundTransactionID)"])
        }
        try await recordMadeAtAcquirer(amount: amount, acquirerRefundID: refundTransactionID, attemptID: attempt.id, invoiceID: attempt.invoiceID, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
    }

    /// Books a refund the acquirer made without us asking (its dashboard), as done.
    private func recordMadeAtAcquirer(amount: Money, acquirerRefundID: String, attemptID: UUID, invoiceID: UUID?, acquirer: String, actor: String, on connection: PostgresConnection, journal: inout Journal) async throws {
        let now = services.clock.now()
        let refund = Refund(
            id: UUID(), attemptID: attemptID, invoiceID: invoiceID, acquirer: acquirer, amount: amount, status: .refunded,
            reason: .madeAtAcquirer, acquirerRefundID: acquirerRefundID, actor: actor, createdAt: now, settledAt: now
        )
        try await services.refunds.insert(refund, on: connection)
        journal.recordTransition(entity: "refund", id: refund.id, from: nil, to: refund.status.rawValue, event: RefundEvent.succeeded.rawValue, actor: actor)
        journal.enqueue(.refundSucceeded, .refund(refund), at: now)
    }

    /// Applies an outcome to a locked refund; a repeat changes nothing.
    private func settle(_ refund: inout Refund, _ event: RefundEvent, acquirerRefundID: String?, failureMessage: String?, actor: String, journal: inout Journal) {
        guard case .move(let from, let to) = refund.status.applying(event) else { return }
        refund.status = to
        refund.acquirerRefundID = acquirerRefundID ?? refund.acquirerRefundID
        refund.failureMessage = failureMessage
        refund.settledAt = services.clock.now()
        journal.recordTransition(entity: "refund", id: refund.id, from: from.rawValue, to: to.rawValue, event: event.rawValue, actor: actor)
        journal.enqueue(to == .refunded ? .refundSucceeded : .refundFailed, .refund(refund), at: refund.settledAt ?? services.clock.now())
    }
}
