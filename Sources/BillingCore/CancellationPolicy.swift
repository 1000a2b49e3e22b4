import Foundation

/// What a viewer who cancels gets back, and until when they keep access (`MOVIX_REFUND_POLICY`).
public enum RefundPolicy: String, Sendable, CaseIterable {
    /// The whole payment within the first hour; later the unused whole months.
    case prorated
    /// Nothing is refunded; the subscription simply ends with its paid period.
    case none

    /// A change of mind this soon after paying gets everything back.
    public static let fullRefundWindow: TimeInterval = 3600

    /// The quote for cancelling `paid` at `now`: a pure function of the period, the price and the clock.
    public func quote(for paid: PaidPeriod, at now: Date) -> CancellationQuote {
        guard self == .prorated else {
            return CancellationQuote(rule: .noRefunds, refund: Money(amount: 0, currency: paid.price.currency), accessUntil: paid.period.end)
        }
        if now.timeIntervalSince(paid.paidAt) < Self.fullRefundWindow {
            return CancellationQuote(rule: .withinFirstHour, refund: paid.price, accessUntil: now)
        }
        // The month in progress counts as used; month boundaries keep the period's anchor day.
        let used = (0...paid.months).first { now < paid.boundary(after: $0) } ?? paid.months
        let unused = paid.months - used
        guard unused > 0 else {
            return CancellationQuote(rule: .nothingUnused, refund: Money(amount: 0, currency: paid.price.currency), accessUntil: paid.period.end)
        }
        // price x unused / months, rounded down to the minor unit, without an intermediate overflow.
        let (whole, remainder) = paid.price.amount.quotientAndRemainder(dividingBy: Int64(paid.months))
        let refund = Money(amount: whole * Int64(unused) + remainder * Int64(unused) / Int64(paid.months), currency: paid.price.currency)
        return CancellationQuote(rule: .unusedMonths, refund: refund, accessUntil: paid.boundary(after: used), unusedMonths: unused)
    }
}

/// The period being cancelled, as it was paid.
public struct PaidPeriod: Equatable, Sendable {
    public var period: BillingPeriod
    /// The plan's length in months, which the period spans.
    public var months: Int
    /// What was paid for the period.
    public var price: Money
    /// When the payment was made (its acquirer time).
    public var paidAt: Date

    public init(period: BillingPeriod, months: Int, price: Money, paidAt: Date) {
        self.period = period
        self.months = months
        self.price = price
        self.paidAt = paidAt
    }

    /// The end of month `index` of the period (0: its start), counted from the start so that
    /// 31 January gives 28 or 29 February, then 31 March.
    func boundary(after index: Int) -> Date {
        index == 0 ? period.start : BillingPeriod(start: period.start, months: index).end
    }
}

/// A cancellation's outcome before it is confirmed, and the record of it after.
public struct CancellationQuote: Equatable, Sendable {
    /// Which rule of the policy decided.
    public enum Rule: String, Sendable, CaseIterable {
        case withinFirstHour = "within_first_hour"
        case unusedMonths = "unused_months"
        case nothingUnused = "nothing_unused"
        case noRefunds = "no_refunds"
    }

    public var rule: Rule
    public var refund: Money
    /// Access ends here: now, the end of the month in progress, or the end of the paid period.
    public var accessUntil: Date
    /// Whole months refunded under `unusedMonths`; 0 otherwise.
    public var unusedMonths: Int
    /// How `refund` splits over the invoices that paid the period, the latest first.
    public var shares: [RefundShare]

    public init(rule: Rule, refund: Money, accessUntil: Date, unusedMonths: Int = 0, shares: [RefundShare] = []) {
        self.rule = rule
        self.refund = refund
        self.accessUntil = accessUntil
        self.unusedMonths = unusedMonths
        self.shares = shares
    }
}

/// The part of a refund one invoice gives back.
public struct RefundShare: Equatable, Sendable {
    public var invoiceID: UUID
    public var amount: Money

    public init(invoiceID: UUID, amount: Money) {
        self.invoiceID = invoiceID
        self.amount = amount
    }
}

/// A paid invoice whose period is not over, and what of it can still be refunded.
public struct RefundableInvoice: Equatable, Sendable {
    public var invoiceID: UUID
    public var paid: PaidPeriod
    /// Its paid amount less the refunds it already had.
    public var refundable: Money

    public init(invoiceID: UUID, paid: PaidPeriod, refundable: Money) {
        self.invoiceID = invoiceID
        self.paid = paid
        self.refundable = refundable
    }
}

extension RefundPolicy {
    /// The quote for cancelling a subscription whose access is paid by `invoices` (those whose
    /// period has not ended): the first of them is in progress and decides the rule and the
    /// access date; every later one is a period paid ahead, refunded whole under `prorated` (it
    /// was not used). No invoice gives back more than it still can. Nil when nothing is paid.
    public func quote(for invoices: [RefundableInvoice], at now: Date) -> CancellationQuote? {
        let running = invoices.filter { $0.paid.period.end > now }.sorted { $0.paid.period.start < $1.paid.period.start }
        guard let current = running.first else { return nil }
        var quote = quote(for: current.paid, at: now)
        var ahead = 0
        var shares: [RefundShare] = []
        for invoice in running.reversed() {
            let own = invoice == current ? quote : self.quote(for: invoice.paid, at: now)
            if invoice != current { ahead += invoice.paid.months }
            let amount = min(own.refund.amount, invoice.refundable.amount)
            if amount > 0 { shares.append(RefundShare(invoiceID: invoice.invoiceID, amount: Money(amount: amount, currency: own.refund.currency))) }
        }
        quote.refund = Money(amount: shares.reduce(0) { $0 + $1.amount.amount }, currency: current.paid.price.currency)
        quote.shares = shares
        if self == .prorated, quote.rule != .withinFirstHour { quote.unusedMonths += ahead }
        // Without refunds every period paid ahead is kept.
        if self == .none, let last = running.last { quote.accessUntil = last.paid.period.end }
        if quote.rule == .nothingUnused, quote.refund.amount > 0 { quote.rule = .unusedMonths }
        return quote
    }

    /// Splits `total` over invoices: the latest paid first, none beyond what it can still give
    /// back. What no invoice can cover is left out (the sum is then smaller).
    public static func allocate(_ total: Money, over invoices: [RefundableInvoice]) -> [RefundShare] {
        var left = total.amount
        var shares: [RefundShare] = []
        for invoice in invoices.sorted(by: { $0.paid.paidAt > $1.paid.paidAt }) where left > 0 && invoice.refundable.amount > 0 {
            let share = min(left, invoice.refundable.amount)
            shares.append(RefundShare(invoiceID: invoice.invoiceID, amount: Money(amount: share, currency: total.currency)))
            left -= share
        }
        return shares
    }
}
