import Foundation

/// The two UTC date formats CloudPayments uses: ISO-like on transactions, space-separated in notifications.
enum SandboxDates {
    /// `2021-10-25T08:23:44`, as in `CreatedDateIso`.
    static func isoText(_ date: Date) -> String {
        format(date, separator: "T")
    }

    /// `2021-10-25 08:23:44`, as in a notification's `DateTime`.
    static func notificationText(_ date: Date) -> String {
        format(date, separator: " ")
    }

    static func yearAndMonth(of date: Date) -> (year: Int, month: Int) {
        let components = utcCalendar.dateComponents([.year, .month], from: date)
        return (components.year ?? 0, components.month ?? 0)
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }()

    private static func format(_ date: Date, separator: String) -> String {
        let c = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String {
            let value = value ?? 0
            return value < 10 ? "0\(value)" : "\(value)"
        }
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day))\(separator)\(two(c.hour)):\(two(c.minute)):\(two(c.second))"
    }
}
