import BillingCore
import Foundation
import Testing

@Suite("Billing period")
struct BillingPeriodTests {
    func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    @Test("months are calendar months in UTC", arguments: [
        ("2026-11-27T11:56:00Z", 1, "2026-12-27T11:56:00Z"),
        ("2026-01-31T10:00:00Z", 1, "2026-02-28T10:00:00Z"),
        ("2028-01-31T10:00:00Z", 1, "2028-02-29T10:00:00Z"),
        ("2026-03-15T23:30:00Z", 12, "2027-03-15T23:30:00Z"),
    ])
    func addsMonths(start: String, months: Int, end: String) {
        #expect(BillingPeriod(start: date(start), months: months).end == date(end))
    }

    @Test func aFirstPaymentStartsAtPaymentTime() {
        let paid = date("2026-11-27T12:00:00Z")
        #expect(BillingPeriod.purchased(months: 3, paidAt: paid, running: nil, anchor: nil) == BillingPeriod(start: paid, end: date("2027-02-27T12:00:00Z")))
    }

    @Test func aSecondPaymentExtendsRunningAccess() {
        let paid = date("2026-11-27T12:00:00Z")
        let running = BillingPeriod(start: date("2026-11-20T00:00:00Z"), end: date("2026-12-20T00:00:00Z"))
        let bought = BillingPeriod.purchased(months: 1, paidAt: paid, running: running, anchor: running.start)
        #expect(bought == BillingPeriod(start: running.end, end: date("2027-01-20T00:00:00Z")))
    }

    @Test func accessEndedInThePastDoesNotBackdate() {
        let paid = date("2026-11-27T12:00:00Z")
        let ended = BillingPeriod(start: date("2026-09-01T00:00:00Z"), end: date("2026-10-01T00:00:00Z"))
        let bought = BillingPeriod.purchased(months: 1, paidAt: paid, running: ended, anchor: ended.start)
        #expect(bought.start == paid)
    }

    @Test("a second payment on a subscription from 31 January ends on the anchor's day, not the 28th")
    func aSecondPaymentKeepsTheAnchor() {
        let anchor = date("2027-01-31T10:00:00Z")
        let running = BillingPeriod(start: anchor, months: 1)
        let bought = BillingPeriod.purchased(months: 1, paidAt: date("2027-02-20T00:00:00Z"), running: running, anchor: anchor)
        #expect(bought == BillingPeriod(start: date("2027-02-28T10:00:00Z"), end: date("2027-03-31T10:00:00Z")))
    }
}
