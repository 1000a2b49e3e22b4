import BillingCore
import Foundation
import Testing

/// The refund policy of a cancellation, as a table: every rule and its edges.
@Suite("Cancellation refund policy")
struct CancellationPolicyTests {
    /// `yyyy-MM-dd HH:mm` in UTC.
    static func at(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text)!
    }

    static func paid(_ start: String, months: Int, price: Int64, paidAt: String? = nil) -> PaidPeriod {
        PaidPeriod(period: BillingPeriod(start: at(start), months: months), months: months, price: .rub(price), paidAt: at(paidAt ?? start))
    }

    struct Row: Sendable, CustomTestStringConvertible {
        let name: String
        let paid: PaidPeriod
        let now: String
        let rule: CancellationQuote.Rule
        let refund: Int64
        let accessUntil: String?  // nil: the moment of cancelling
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "1 month, 59 minutes after paying: all back, access ends now", paid: paid("2026-03-10 12:00", months: 1, price: 29_900),
            now: "2026-03-10 12:59", rule: .withinFirstHour, refund: 29_900, accessUntil: nil),
        Row(name: "1 month, 61 minutes after paying: nothing unused, access to the period's end", paid: paid("2026-03-10 12:00", months: 1, price: 29_900),
            now: "2026-03-10 13:01", rule: .nothingUnused, refund: 0, accessUntil: "2026-04-10 12:00"),
        Row(name: "exactly an hour is no longer within the first hour", paid: paid("2026-03-10 12:00", months: 1, price: 29_900),
            now: "2026-03-10 13:00", rule: .nothingUnused, refund: 0, accessUntil: "2026-04-10 12:00"),
        Row(name: "12 months, 3.5 months in: 8 months back, access to the end of month 4", paid: paid("2026-01-15 00:00", months: 12, price: 299_000),
            now: "2026-05-01 00:00", rule: .unusedMonths, refund: 199_333, accessUntil: "2026-05-15 00:00"),
        Row(name: "3 months, a day in: 2 of 3 back, rounded down to the kopeck", paid: paid("2026-01-15 00:00", months: 3, price: 79_900),
            now: "2026-01-16 00:00", rule: .unusedMonths, refund: 53_266, accessUntil: "2026-02-15 00:00"),
        Row(name: "6 months, in the last month: nothing unused", paid: paid("2026-01-15 00:00", months: 6, price: 149_900),
            now: "2026-07-01 00:00", rule: .nothingUnused, refund: 0, accessUntil: "2026-07-15 00:00"),
        Row(name: "6 months, on a month boundary: the new month is in progress, so used", paid: paid("2026-01-15 00:00", months: 6, price: 149_900),
            now: "2026-03-15 00:00", rule: .unusedMonths, refund: 74_950, accessUntil: "2026-04-15 00:00"),
        Row(name: "31 January, 3 months: the first month ends 28 February (2027)", paid: paid("2027-01-31 00:00", months: 3, price: 79_900),
            now: "2027-02-27 23:59", rule: .unusedMonths, refund: 53_266, accessUntil: "2027-02-28 00:00"),
        Row(name: "31 January, 3 months, leap year: the first month ends 29 February (2028)", paid: paid("2028-01-31 00:00", months: 3, price: 79_900),
            now: "2028-02-28 12:00", rule: .unusedMonths, refund: 53_266, accessUntil: "2028-02-29 00:00"),
        Row(name: "31 January, 3 months: the second month ends 31 March, not 28 March", paid: paid("2027-01-31 00:00", months: 3, price: 79_900),
            now: "2027-03-29 00:00", rule: .unusedMonths, refund: 26_633, accessUntil: "2027-03-31 00:00"),
        Row(name: "a period paid ahead, not started yet, more than an hour later: every month back", paid: paid("2026-04-10 12:00", months: 3, price: 79_900, paidAt: "2026-03-20 12:00"),
            now: "2026-03-25 12:00", rule: .unusedMonths, refund: 79_900, accessUntil: "2026-04-10 12:00"),
    ]

    @Test("prorated", arguments: rows)
    func prorated(_ row: Row) {
        let quote = RefundPolicy.prorated.quote(for: row.paid, at: Self.at(row.now))
        #expect(quote.rule == row.rule)
        #expect(quote.refund == .rub(row.refund))
        #expect(quote.accessUntil == Self.at(row.accessUntil ?? row.now))
    }

    @Test("policy none: nothing back at any time, access to the end of the paid period")
    func noRefunds() {
        let paid = Self.paid("2026-03-10 12:00", months: 12, price: 299_000)
        for now in ["2026-03-10 12:01", "2026-06-01 00:00"] {
            let quote = RefundPolicy.none.quote(for: paid, at: Self.at(now))
            #expect(quote == CancellationQuote(rule: .noRefunds, refund: .rub(0), accessUntil: Self.at("2027-03-10 12:00")))
        }
    }

    static func invoice(_ id: UUID, _ paid: PaidPeriod, refundable: Int64? = nil) -> RefundableInvoice {
        RefundableInvoice(invoiceID: id, paid: paid, refundable: .rub(refundable ?? paid.price.amount))
    }

    @Test("one invoice: the quote is its own, refunded by that invoice")
    func oneInvoice() throws {
        let id = UUID()
        let paid = Self.paid("2026-01-15 00:00", months: 12, price: 299_000)
        let quote = try #require(RefundPolicy.prorated.quote(for: [Self.invoice(id, paid)], at: Self.at("2026-05-01 00:00")))
        #expect(quote.refund == .rub(199_333))
        #expect(quote.unusedMonths == 8)
        #expect(quote.shares == [RefundShare(invoiceID: id, amount: .rub(199_333))])
        // Nothing paid that is still running: nothing to cancel.
        #expect(RefundPolicy.prorated.quote(for: [Self.invoice(id, paid)], at: Self.at("2027-01-15 00:00")) == nil)
    }

    @Test("a period paid ahead is refunded whole, the latest first; access ends with the month in progress")
    func periodPaidAhead() throws {
        let (current, ahead) = (UUID(), UUID())
        let invoices = [
            Self.invoice(ahead, Self.paid("2026-02-15 00:00", months: 1, price: 29_900, paidAt: "2026-02-14 00:00")),
            Self.invoice(current, Self.paid("2026-01-15 00:00", months: 1, price: 29_900)),
        ]
        // The renewal was paid 30 minutes ago: all of it back, the month in progress kept.
        let fresh = try #require(RefundPolicy.prorated.quote(for: invoices, at: Self.at("2026-02-14 00:30")))
        #expect(fresh.rule == .unusedMonths)
        #expect(fresh.shares == [RefundShare(invoiceID: ahead, amount: .rub(29_900))])
        #expect(fresh.accessUntil == Self.at("2026-02-15 00:00"))
        #expect(fresh.unusedMonths == 1)
        // Policy none keeps every period paid, the one ahead included.
        let kept = try #require(RefundPolicy.none.quote(for: invoices, at: Self.at("2026-02-14 00:30")))
        #expect(kept.refund == .rub(0))
        #expect(kept.shares.isEmpty)
        #expect(kept.accessUntil == Self.at("2026-03-15 00:00"))
    }

    @Test("no invoice gives back more than it still can")
    func cappedByEarlierRefunds() throws {
        let id = UUID()
        let paid = Self.paid("2026-03-10 12:00", months: 1, price: 29_900)
        let quote = try #require(RefundPolicy.prorated.quote(for: [Self.invoice(id, paid, refundable: 10_000)], at: Self.at("2026-03-10 12:30")))
        #expect(quote.rule == .withinFirstHour)
        #expect(quote.refund == .rub(10_000))
        let spent = try #require(RefundPolicy.prorated.quote(for: [Self.invoice(id, paid, refundable: 0)], at: Self.at("2026-03-10 12:30")))
        #expect(spent.refund == .rub(0))
        #expect(spent.shares.isEmpty)
    }

    @Test("a retry splits what is still owed over the invoices, the latest first, none beyond what it can give")
    func allocation() {
        let (older, newer, spent) = (UUID(), UUID(), UUID())
        let invoices = [
            Self.invoice(older, Self.paid("2026-01-01 00:00", months: 1, price: 29_900)),
            Self.invoice(spent, Self.paid("2026-03-01 00:00", months: 1, price: 29_900), refundable: 0),
            Self.invoice(newer, Self.paid("2026-02-01 00:00", months: 1, price: 29_900), refundable: 10_000),
        ]
        let shares = RefundPolicy.allocate(.rub(25_000), over: invoices)
        #expect(shares.map(\.invoiceID) == [newer, older])
        #expect(shares.map(\.amount) == [.rub(10_000), .rub(15_000)])
        // More than all of them can give: each gives all it has, the rest is not invented.
        #expect(RefundPolicy.allocate(.rub(50_000), over: invoices).map(\.amount) == [.rub(10_000), .rub(29_900)])
        #expect(RefundPolicy.allocate(.rub(0), over: invoices).isEmpty)
    }

    @Test("a cancellation's money: refunded once its refunds cover it, or once its payments have nothing left to give")
    func refundState() {
        let cancellation = Cancellation(
            id: UUID(), subscriptionID: UUID(), userID: UUID(), policy: .prorated, rule: .withinFirstHour, refund: .rub(29_900), unusedMonths: 0,
            accessUntil: Self.at("2026-03-10 12:30"), periodEnd: Self.at("2026-04-10 12:00"), autoRenewBefore: false, idempotencyKey: nil,
            actor: "user", requestedAt: Self.at("2026-03-10 12:30")
        )
        func refund(_ amount: Int64, _ status: RefundStatus) -> Refund {
            Refund(id: UUID(), attemptID: UUID(), invoiceID: UUID(), acquirer: "cloudpayments", amount: .rub(amount), status: status, reason: .cancellation, actor: "user", createdAt: Self.at("2026-03-10 12:30"))
        }
        #expect(cancellation.refundState([refund(29_900, .refunded)]) == .refunded)
        #expect(cancellation.refundState([refund(29_900, .pending)]) == .pending)
        #expect(cancellation.refundState([refund(29_900, .failed)]) == .failed)
        #expect(cancellation.refundState([refund(29_900, .failed)], leftToRefund: .rub(29_900)) == .failed)
        // An operator's refund gave it all back meanwhile: nothing is owed any more.
        #expect(cancellation.refundState([refund(29_900, .failed)], leftToRefund: .rub(0)) == .refunded)
        #expect(cancellation.unrefunded([refund(29_900, .failed), refund(10_000, .refunded)]) == .rub(19_900))
        var free = cancellation
        free.refund = .rub(0)
        #expect(free.refundState([]) == .none)
    }
}
