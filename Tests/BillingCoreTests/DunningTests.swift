import BillingCore
import Foundation
import Testing

/// The renewal rules as tables: which declines are worth retrying, the retry schedule, grace and
/// expiry, and periods that keep their anchor day.
@Suite("Renewals and dunning")
struct DunningTests {
    static func at(_ text: String) -> Date { CancellationPolicyTests.at(text) }

    @Test("declines: lost, stolen, expired, invalid or blocked cards are hard; money and availability problems are soft", arguments: [
        (5051, DeclineKind.soft), (5091, .soft), (5092, .soft), (5096, .soft), (5005, .soft), (5065, .soft), (5006, .soft), (5030, .soft),
        (5041, .hard), (5043, .hard), (5054, .hard), (5033, .hard), (5014, .hard), (5004, .hard), (5057, .hard), (5034, .hard), (5300, .hard),
        (9999, .soft),
    ])
    func classification(code: Int, kind: DeclineKind) {
        #expect(DeclineKind.of(code: code) == kind)
    }

    @Test("soft declines are retried 1, 3 and 5 days after the first failure, while access lasts; hard ones never")
    func retrySchedule() {
        let schedule = DunningSchedule.standard
        let first = Self.at("2026-03-10 12:00")
        let ends = schedule.accessEnds(periodEnd: Self.at("2026-03-11 12:00"))
        #expect(ends == Self.at("2026-03-14 12:00"))
        #expect(schedule.nextCharge(after: 1, firstFailure: first, kind: .soft, accessEnds: ends) == Self.at("2026-03-11 12:00"))
        #expect(schedule.nextCharge(after: 2, firstFailure: first, kind: .soft, accessEnds: ends) == Self.at("2026-03-13 12:00"))
        #expect(schedule.nextCharge(after: 3, firstFailure: first, kind: .soft, accessEnds: ends) == nil, "day 5 falls after access ends")
        #expect(schedule.nextCharge(after: 3, firstFailure: first, kind: .soft, accessEnds: Self.at("2026-04-01 00:00")) == Self.at("2026-03-15 12:00"))
        #expect(schedule.nextCharge(after: 4, firstFailure: first, kind: .soft, accessEnds: Self.at("2026-04-01 00:00")) == nil, "the schedule is spent")
        #expect(schedule.nextCharge(after: 1, firstFailure: first, kind: .hard, accessEnds: ends) == nil)
        #expect(schedule.nextCharge(after: 0, firstFailure: first, kind: .soft, accessEnds: ends) == nil)
    }

    @Test("an unpaid renewal: active to the period's end, past due for the grace, then expired", arguments: [
        ("2026-03-31 23:59", SubscriptionStatus.active), ("2026-04-01 00:00", .pastDue), ("2026-04-03 23:59", .pastDue), ("2026-04-04 00:00", .expired),
    ])
    func grace(now: String, status: SubscriptionStatus) {
        #expect(DunningSchedule.standard.status(periodEnd: Self.at("2026-04-01 00:00"), at: Self.at(now)) == status)
    }

    @Test("monthly renewals from 31 January keep the anchor: 28 February, 31 March, 30 April; leap years give 29 February")
    func anchorDay() {
        let anchor = Self.at("2027-01-31 10:00")
        var period = BillingPeriod(start: anchor, months: 1)
        var ends: [Date] = [period.end]
        for _ in 0..<3 {
            let next = period.next(months: 1, anchor: anchor)
            #expect(next.start == period.end, "no gap, no overlap")
            period = next
            ends.append(period.end)
        }
        #expect(ends == ["2027-02-28 10:00", "2027-03-31 10:00", "2027-04-30 10:00", "2027-05-31 10:00"].map(Self.at))
        let leap = BillingPeriod(start: Self.at("2028-01-31 10:00"), months: 1)
        #expect(leap.end == Self.at("2028-02-29 10:00"))
        #expect(leap.next(months: 1, anchor: Self.at("2028-01-31 10:00")).end == Self.at("2028-03-31 10:00"))
    }

    @Test("longer plans renew by their length from the anchor", arguments: [3, 6, 12])
    func longerPlans(months: Int) {
        let anchor = Self.at("2027-08-31 00:00")
        let first = BillingPeriod(start: anchor, months: months)
        let second = first.next(months: months, anchor: anchor)
        #expect(second.start == first.end)
        #expect(second.end == BillingPeriod(start: anchor, months: 2 * months).end)
    }

    @Test("an end off the anchor's months renews for exactly its months from that end, not up to the next anchor day")
    func offAnchorEnd() {
        let anchor = Self.at("2027-01-15 10:00")
        let shortened = BillingPeriod(start: anchor, end: Self.at("2027-02-10 08:00"))
        let next = shortened.next(months: 1, anchor: anchor)
        #expect(next.start == shortened.end)
        #expect(next.end == Self.at("2027-03-10 08:00"))
    }

    @Test("a longer plan bought on top of a month keeps the anchor and buys exactly its months")
    func mixedPlans() {
        let anchor = Self.at("2027-01-31 10:00")
        let month = BillingPeriod(start: anchor, months: 1)
        let quarter = month.next(months: 3, anchor: anchor)
        #expect(quarter.start == Self.at("2027-02-28 10:00"))
        #expect(quarter.end == Self.at("2027-05-31 10:00"))
    }
}
