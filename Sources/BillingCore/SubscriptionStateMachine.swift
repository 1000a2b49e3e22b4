/// Where a subscription is in its life: see DESIGN.md, "State machines".
public enum SubscriptionStatus: String, Hashable, Sendable, CaseIterable, Codable {
    case pending, active, pastDue = "past_due", canceled, expired

    /// Whether the viewer may watch movies in this state (past_due keeps access during grace).
    public var grantsAccess: Bool { self == .active || self == .pastDue || self == .canceled }
}

/// Something that happens to a subscription.
public enum SubscriptionEvent: String, Hashable, Sendable, CaseIterable {
    /// The first payment succeeded.
    case activate
    /// A renewal payment succeeded.
    case renew
    /// A renewal payment failed; the grace period starts.
    case renewalFailed = "renewal_failed"
    /// The viewer canceled; access lasts to the date the refund policy gives.
    case cancel
    /// The viewer took back a cancellation that refunded nothing, before access ended.
    case resume
    /// The paid period (or the grace period) is over.
    case expire
}

extension SubscriptionStatus {
    /// The subscription state machine as a pure function.
    public func applying(_ event: SubscriptionEvent) -> Transition<SubscriptionStatus> {
        switch (self, event) {
        case (.pending, .activate): .move(from: self, to: .active)
        case (.active, .activate): .alreadyApplied(self)

        case (.active, .renew), (.pastDue, .renew): .move(from: self, to: .active)

        case (.active, .renewalFailed): .move(from: self, to: .pastDue)
        case (.pastDue, .renewalFailed): .alreadyApplied(self)

        case (.active, .cancel): .move(from: self, to: .canceled)
        case (.canceled, .cancel): .alreadyApplied(self)
        case (.canceled, .resume): .move(from: self, to: .active)
        case (.active, .resume): .alreadyApplied(self)

        // Without renewals an active subscription simply lapses at the end of its period.
        case (.active, .expire), (.pastDue, .expire), (.canceled, .expire): .move(from: self, to: .expired)
        case (.expired, .expire): .alreadyApplied(self)

        default: .refused(self, reason: "\(event.rawValue) does not apply to a \(rawValue) subscription")
        }
    }
}
