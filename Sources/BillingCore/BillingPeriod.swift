import Foundation

/// A span of paid access, [start, end), in UTC.
public struct BillingPeriod: Hashable, Sendable, Codable {
    public var start: Date
    public var end: Date

    public init(start: Date, end: Date) {
        self.start = start
        self.end = end
    }

    /// `months` calendar months from `start` in UTC; Jan 31 + 1 month is the last day of February.
    public init(start: Date, months: Int) {
        self.start = start
        self.end = BillingPeriod.utcCalendar.date(byAdding: .month, value: months, to: start)!
    }

    /// The period a payment buys: from the payment when no access is running (the payment then
    /// becomes the billing anchor), else from the end of the running access, ending on the
    /// anchor's day of the month (a second payment arrived late: nothing paid is lost).
    public static func purchased(months: Int, paidAt: Date, running: BillingPeriod?, anchor: Date?) -> BillingPeriod {
        guard let running, running.end > paidAt else { return BillingPeriod(start: paidAt, months: months) }
        return running.next(months: months, anchor: anchor ?? running.start)
    }

    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
