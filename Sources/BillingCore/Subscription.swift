import Foundation

/// A viewer's subscription: which plan, in which state, paid until when.
public struct Subscription: Hashable, Sendable {
    public var id: UUID
    public var userID: UUID
    public var planID: UUID
    public var status: SubscriptionStatus
    public var currentPeriod: BillingPeriod?
    public var autoRenew: Bool
    public var cancelAtPeriodEnd: Bool
    /// Where its billing months are counted from (`BillingPeriod.next(months:anchor:)`); nil until paid.
    public var billingAnchor: Date?

    public init(id: UUID, userID: UUID, planID: UUID, status: SubscriptionStatus, currentPeriod: BillingPeriod?, autoRenew: Bool, cancelAtPeriodEnd: Bool, billingAnchor: Date? = nil) {
        self.id = id
        self.userID = userID
        self.planID = planID
        self.status = status
        self.currentPeriod = currentPeriod
        self.autoRenew = autoRenew
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.billingAnchor = billingAnchor
    }

    /// Whether access has run out at `now` while the row still says otherwise: such a subscription
    /// counts as expired wherever it is read, and reconciliation marks it so.
    public func hasLapsed(at now: Date) -> Bool {
        guard status.grantsAccess, let period = currentPeriod else { return false }
        return now >= period.end
    }

    /// The status as of `now`: a lapsed subscription is expired.
    public func effectiveStatus(at now: Date) -> SubscriptionStatus {
        hasLapsed(at: now) ? .expired : status
    }

    /// Whether the viewer may watch at `now`.
    public func grantsAccess(at now: Date) -> Bool {
        guard status.grantsAccess, let period = currentPeriod else { return false }
        return period.start <= now && now < period.end
    }
}
