import Foundation

/// Money given back for (part of) a successful attempt.
public struct Refund: Hashable, Sendable {
    public var id: UUID
    public var attemptID: UUID
    public var invoiceID: UUID?
    public var acquirer: String
    public var amount: Money
    public var status: RefundStatus
    public var reason: RefundReason
    /// An operator's words, when an operator asked for it.
    public var comment: String?
    /// The refund's own transaction id at the acquirer, once known.
    public var acquirerRefundID: String?
    /// Why the acquirer refused it.
    public var failureMessage: String?
    /// The viewer's cancellation it gives money back for.
    public var cancellationID: UUID?
    public var actor: String
    public var createdAt: Date
    /// When it was first sent: the acquirer replays its answer to a resend for an hour after that.
    public var submittedAt: Date?
    public var settledAt: Date?

    public init(id: UUID, attemptID: UUID, invoiceID: UUID?, acquirer: String, amount: Money, status: RefundStatus, reason: RefundReason, comment: String? = nil, acquirerRefundID: String? = nil, failureMessage: String? = nil, cancellationID: UUID? = nil, actor: String, createdAt: Date, submittedAt: Date? = nil, settledAt: Date? = nil) {
        self.id = id
        self.attemptID = attemptID
        self.invoiceID = invoiceID
        self.acquirer = acquirer
        self.amount = amount
        self.status = status
        self.reason = reason
        self.comment = comment
        self.acquirerRefundID = acquirerRefundID
        self.failureMessage = failureMessage
        self.cancellationID = cancellationID
        self.actor = actor
        self.createdAt = createdAt
        self.submittedAt = submittedAt
        self.settledAt = settledAt
    }

    /// Whether the refund holds (or has taken) part of its attempt's amount.
    public var countsAgainstAttempt: Bool { status != .failed }

    /// Whether its outcome is still to come.
    public var isUnsettled: Bool { status == .created || status == .pending }

    /// How long after its first sending a refund may be sent again: the acquirer replays its
    /// answer to the same request id for an hour (CloudPayments), and after that a resend could
    /// refund twice. A refund still without an outcome then waits for its Refund notification or
    /// an operator, and the audit lists it after a day.
    public static let resendWindow: TimeInterval = 50 * 60

    /// Whether its outcome will still come from us at `now`: not sent yet, or sent within the
    /// resend window. One past the window is an operator's to settle.
    public func isBeingSent(at now: Date) -> Bool {
        status == .created || (status == .pending && (submittedAt ?? .distantPast) > now.addingTimeInterval(-Self.resendWindow))
    }
}

/// Why money goes back.
public enum RefundReason: String, Hashable, Sendable, CaseIterable, Codable {
    /// The invoice was already paid by another attempt.
    case duplicateCharge = "duplicate_charge"
    /// The attempt took another amount or currency than the invoice asks.
    case amountMismatch = "amount_mismatch"
    /// The attempt was made for another account than the invoice's.
    case accountMismatch = "account_mismatch"
    /// The attempt names no invoice we have.
    case unknownInvoice = "unknown_invoice"
    /// The invoice was canceled or failed before the money came.
    case invoiceClosed = "invoice_closed"
    /// An operator refunded through the internal API.
    case requestedByOperator = "requested_by_operator"
    /// The ruble that checked a new card, given back.
    case cardCheck = "card_check"
    /// Made in the acquirer's dashboard; we learnt of it from its notification.
    case madeAtAcquirer = "made_at_acquirer"
    /// The viewer cancelled; the unused part of what they paid goes back.
    case cancellation
}

/// Where a refund is: `created -> pending -> refunded | failed`.
public enum RefundStatus: String, Hashable, Sendable, CaseIterable, Codable {
    case created, pending, refunded, failed
}

/// What happens to a refund.
public enum RefundEvent: String, Hashable, Sendable, CaseIterable {
    /// The refund call went out (its outcome may still be unknown).
    case submitted
    /// The acquirer answered success, or its Refund notification came.
    case succeeded
    /// The acquirer refused it.
    case rejected
    /// The success it was settled by (a Refund notification matched by amount) turned out to be
    /// another refund's: its own outcome is unknown again.
    case misattributed
}

extension RefundStatus {
    /// The refund state machine as a pure function. A success is final; a notification of success
    /// after a refusal still wins, because the acquirer is telling us the money moved.
    public func applying(_ event: RefundEvent) -> Transition<RefundStatus> {
        switch (self, event) {
        case (.created, .submitted): .move(from: self, to: .pending)
        case (.pending, .submitted): .alreadyApplied(self)
        case (.created, .succeeded), (.pending, .succeeded), (.failed, .succeeded): .move(from: self, to: .refunded)
        case (.refunded, .succeeded): .alreadyApplied(self)
        case (.created, .rejected), (.pending, .rejected): .move(from: self, to: .failed)
        case (.failed, .rejected): .alreadyApplied(self)
        case (.refunded, .misattributed): .move(from: self, to: .pending)
        case (.created, .misattributed), (.pending, .misattributed): .alreadyApplied(self)
        case (.refunded, _): .refused(self, reason: "the refund is done")
        case (.failed, .submitted), (.failed, .misattributed): .refused(self, reason: "the refund failed; start a new one")
        }
    }
}

/// How much of `attemptAmount` is still refundable, given the attempt's refunds so far.
public func refundableAmount(of attemptAmount: Money, after refunds: [Refund]) -> Money {
    Money(amount: max(0, attemptAmount.amount - refunds.heldAmount), currency: attemptAmount.currency)
}

extension Sequence where Element == Refund {
    /// What these refunds hold of their payments (all but the failed), in minor units.
    public var heldAmount: Int64 { filter(\.countsAgainstAttempt).reduce(0) { $0 + $1.amount.amount } }

    /// What these refunds gave back for certain (the `refunded` ones), in minor units.
    public var refundedAmount: Int64 { filter { $0.status == .refunded }.reduce(0) { $0 + $1.amount.amount } }
}
