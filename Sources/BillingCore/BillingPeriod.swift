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

    /// The period a payment buys: from the payment time, or, when access is still running (a
    /// second payment arrived late), from the end of the current access so nothing paid is lost.
    public static func purchased(months: Int, paidAt: Date, currentAccessEnd: Date?) -> BillingPeriod {
        let start = max(paidAt, currentAccessEnd ?? paidAt)
        return BillingPeriod(start: start, months: months)
    }

    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
