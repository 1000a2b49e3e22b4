import Foundation

/// A viewer's confirmed cancellation of a subscription: the quote it was confirmed at and what
/// the subscription was before, so a cancellation that refunded nothing can be undone.
public struct Cancellation: Hashable, Sendable {
    public var id: UUID
    public var subscriptionID: UUID
    public var userID: UUID
    public var policy: RefundPolicy
    public var rule: CancellationQuote.Rule
    /// What the cancellation owes the viewer in all; its refunds carry it.
    public var refund: Money
    public var unusedMonths: Int
    public var accessUntil: Date
    /// Where paid access ended before the cancellation.
    public var periodEnd: Date
    /// Whether the subscription renewed automatically before; resuming restores it.
    public var autoRenewBefore: Bool
    public var idempotencyKey: String?
    public var actor: String
    public var requestedAt: Date
    public var resumedAt: Date?

    public init(id: UUID, subscriptionID: UUID, userID: UUID, policy: RefundPolicy, rule: CancellationQuote.Rule, refund: Money, unusedMonths: Int, accessUntil: Date, periodEnd: Date, autoRenewBefore: Bool, idempotencyKey: String?, actor: String, requestedAt: Date, resumedAt: Date? = nil) {
        self.id = id
        self.subscriptionID = subscriptionID
        self.userID = userID
        self.policy = policy
        self.rule = rule
        self.refund = refund
        self.unusedMonths = unusedMonths
        self.accessUntil = accessUntil
        self.periodEnd = periodEnd
        self.autoRenewBefore = autoRenewBefore
        self.idempotencyKey = idempotencyKey
        self.actor = actor
        self.requestedAt = requestedAt
        self.resumedAt = resumedAt
    }

    /// The quote it was confirmed at.
    public var terms: CancellationQuote {
        CancellationQuote(rule: rule, refund: refund, accessUntil: accessUntil, unusedMonths: unusedMonths)
    }

    /// Where the money it owes is, from its refunds. When its invoices have nothing left to give
    /// (`leftToRefund` 0: another refund, an operator's, gave the rest back meanwhile), the money
    /// is back too, and nothing is left to retry.
    public func refundState(_ refunds: [Refund], leftToRefund: Money? = nil) -> CancellationRefundState {
        guard refund.amount > 0 else { return .none }
        if refunds.refundedAmount >= refund.amount { return .refunded }
        if refunds.contains(where: \.isUnsettled) { return .pending }
        return leftToRefund?.amount == 0 ? .refunded : .failed
    }

    /// What is still owed and not being refunded: the failed refunds' part, which a retry sends again.
    public func unrefunded(_ refunds: [Refund]) -> Money {
        Money(amount: max(0, refund.amount - refunds.heldAmount), currency: refund.currency)
    }

    /// Whether the viewer may take it back: only when nothing was refunded and access still runs.
    public func canResume(at now: Date) -> Bool {
        resumedAt == nil && refund.amount == 0 && now < accessUntil
    }
}

/// Where a cancellation's money is, as the viewer sees it.
public enum CancellationRefundState: String, Sendable, CaseIterable {
    /// Nothing is owed.
    case none
    /// On its way to the card.
    case pending
    /// All of it is back.
    case refunded
    /// The acquirer refused; reconciliation tries again.
    case failed
}
