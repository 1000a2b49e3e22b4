import Foundation

/// When renewals are charged and how a failed one is chased: the service's renewal settings.
public struct RenewalTerms: Equatable, Sendable {
    /// How long before a period ends its renewal is charged (`MOVIX_RENEWAL_LEAD`).
    public var lead: TimeInterval
    /// Retries after a decline and the grace that follows the period's end.
    public var dunning: DunningSchedule
    /// How long before the charge the viewer is told it is coming (`MOVIX_RENEWAL_NOTICE`): the
    /// notice card schemes and Russian consumer law expect before a recurring charge.
    public var notice: TimeInterval

    public static let standard = RenewalTerms(lead: 24 * 3600, dunning: .standard, notice: 3 * 86_400)

    public init(lead: TimeInterval, dunning: DunningSchedule, notice: TimeInterval = 3 * 86_400) {
        self.lead = lead
        self.dunning = dunning
        self.notice = notice
    }

    /// When the viewer is told of the renewal of a period ending at `periodEnd`.
    public func noticeAt(periodEnd: Date) -> Date {
        chargeAt(periodEnd: periodEnd).addingTimeInterval(-notice)
    }

    /// When the renewal of a period ending at `periodEnd` is charged.
    public func chargeAt(periodEnd: Date) -> Date {
        periodEnd.addingTimeInterval(-lead)
    }
}
