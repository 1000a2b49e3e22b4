import Foundation

/// What a declined renewal charge means for the next try (issue 8): a soft decline may pass later
/// (money comes in, the issuer comes back), a hard one never will with that card.
public enum DeclineKind: String, Sendable, CaseIterable {
    /// Try the same card again on the dunning schedule.
    case soft
    /// Stop charging the card; ask the viewer for a new one.
    case hard

    /// The kind of a decline by its reason code. CloudPayments' guidance for recurring charges
    /// (docs/acquirers/cloudpayments.md), with two changes for merchant-initiated renewals: an
    /// expired card (5054) is hard, since no retry renews it, and Do Not Honor (5005), the
    /// issuer's generic refusal, is soft, as card networks treat it. Unknown codes are soft: a
    /// few retries cost less than losing a subscriber to a code we have not seen.
    public static func of(code: Int) -> DeclineKind {
        hardCodes.contains(code) ? .hard : .soft
    }

    /// Lost, stolen, blocked, expired, invalid or not allowed: that card will not pay.
    static let hardCodes: Set<Int> = [
        5001, 5003, 5004, 5012, 5014, 5015, 5017, 5033, 5034, 5036, 5041, 5043, 5054, 5057, 5300,
    ]
}

/// When a renewal whose charge failed is tried again, and when its subscription runs out.
public struct DunningSchedule: Equatable, Sendable {
    /// Delays after the first failure at which the charge is tried again (soft declines only).
    public var retryDelays: [TimeInterval]
    /// How long past its period's end a subscription in dunning keeps access (`MOVIX_GRACE_PERIOD`).
    public var grace: TimeInterval

    public static let standard = DunningSchedule(retryDelays: [1, 3, 5].map { $0 * 86_400 }, grace: 3 * 86_400)

    public init(retryDelays: [TimeInterval], grace: TimeInterval) {
        self.retryDelays = retryDelays
        self.grace = grace
    }

    /// When to charge again after `failures` failed charges, the first at `firstFailure`, the
    /// last with `kind`; nil when there is nothing left to try (a hard decline, the schedule
    /// spent, or a retry that would fall after access ends at `accessEnds`).
    public func nextCharge(after failures: Int, firstFailure: Date, kind: DeclineKind, accessEnds: Date) -> Date? {
        guard kind == .soft, failures >= 1, failures <= retryDelays.count else { return nil }
        let next = firstFailure.addingTimeInterval(retryDelays[failures - 1])
        return next < accessEnds ? next : nil
    }

    /// Where a subscription whose renewal has not been paid stands at `now`: active until its
    /// period ends, past due during the grace that follows, expired after.
    public func status(periodEnd: Date, at now: Date) -> SubscriptionStatus {
        if now < periodEnd { return .active }
        return now < periodEnd.addingTimeInterval(grace) ? .pastDue : .expired
    }

    /// The moment access ends for a subscription whose renewal is not paid.
    public func accessEnds(periodEnd: Date) -> Date {
        periodEnd.addingTimeInterval(grace)
    }
}

extension BillingPeriod {
    /// The period after `self` for a subscription billed every `months` months from `anchor`, its
    /// first period's start: boundaries are counted from the anchor, so a subscription from
    /// 31 January renews on 28 (29) February, then 31 March, never drifting to the 28th as
    /// chaining each period from the previous end would. An end off the anchor's months (set by
    /// hand, say) renews for exactly `months` from that end, never for more.
    public func next(months: Int, anchor: Date) -> BillingPeriod {
        // Whole months from the anchor to the end of `self` (a later plan may be longer or
        // shorter than the first, so count months, not periods).
        var elapsed = 0
        while BillingPeriod(start: anchor, months: elapsed).end < end { elapsed += 1 }
        // Within a millisecond: dates come back from PostgreSQL to the microsecond.
        guard abs(BillingPeriod(start: anchor, months: elapsed).end.timeIntervalSince(end)) < 0.001 else {
            return BillingPeriod(start: end, months: months)
        }
        return BillingPeriod(start: end, end: BillingPeriod(start: anchor, months: elapsed + months).end)
    }
}
