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
    /// While a renewal of the current period is under way and unpaid, access lasts until this
    /// moment, past the period's end (the grace of `DunningSchedule`); nil otherwise.
    public var graceUntil: Date?

    public init(id: UUID, userID: UUID, planID: UUID, status: SubscriptionStatus, currentPeriod: BillingPeriod?, autoRenew: Bool, cancelAtPeriodEnd: Bool, billingAnchor: Date? = nil, graceUntil: Date? = nil) {
        self.id = id
        self.userID = userID
        self.planID = planID
        self.status = status
        self.currentPeriod = currentPeriod
        self.autoRenew = autoRenew
        self.cancelAtPeriodEnd = cancelAtPeriodEnd
        self.billingAnchor = billingAnchor
        self.graceUntil = graceUntil
    }

    /// When access ends: the period's end, or the grace's while a renewal is under way.
    public var accessEnd: Date? {
        currentPeriod.map { period in graceUntil.map { max($0, period.end) } ?? period.end }
    }

    /// Whether access has run out at `now` while the row still says otherwise: such a subscription
    /// counts as expired wherever it is read, and reconciliation marks it so.
    public func hasLapsed(at now: Date) -> Bool {
        guard status.grantsAccess, let accessEnd else { return false }
        return now >= accessEnd
    }

    /// The status as of `now`: a lapsed subscription is expired, and an active one whose period
    /// ended unpaid is past due (in its grace), whether or not the worker has marked it yet.
    public func effectiveStatus(at now: Date) -> SubscriptionStatus {
        if hasLapsed(at: now) { return .expired }
        if status == .active, graceUntil != nil, let period = currentPeriod, now >= period.end { return .pastDue }
        return status
    }

    /// Whether the viewer may watch at `now`.
    public func grantsAccess(at now: Date) -> Bool {
        guard status.grantsAccess, let period = currentPeriod, let accessEnd else { return false }
        return period.start <= now && now < accessEnd
    }
}
