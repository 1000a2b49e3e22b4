import Foundation

/// When renewals are charged and how a failed one is chased: the service's renewal settings.
public struct RenewalTerms: Equatable, Sendable {
    /// How long before a period ends its renewal is charged (`MOVIX_RENEWAL_LEAD`).
    public var lead: TimeInterval
    /// Retries after a decline and the grace that follows the period's end.
    public var dunning: DunningSchedule

    public static let standard = RenewalTerms(lead: 24 * 3600, dunning: .standard)

    public init(lead: TimeInterval, dunning: DunningSchedule) {
        self.lead = lead
        self.dunning = dunning
    }

    /// When the renewal of a period ending at `periodEnd` is charged.
    public func chargeAt(periodEnd: Date) -> Date {
        periodEnd.addingTimeInterval(-lead)
    }
}
