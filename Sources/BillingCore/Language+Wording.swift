import Foundation

/// How amounts, plans and dates read in each language: pages and email say them alike.
extension Language {
    /// An amount as people read it: "499,00 ₽" / "RUB 499.00".
    public func amount(_ money: Money) -> String {
        switch self {
        case .ru: money.decimalString.replacingOccurrences(of: ".", with: ",") + (money.currency == .rub ? " ₽" : " \(money.currency)")
        case .en: "\(money.currency) \(money.decimalString)"
        }
    }

    /// A plan's name in this language: "Movix Premium, 3 месяца" / "Movix Premium, 3 months".
    public func planTitle(tier: String, months: Int) -> String {
        let name = "Movix " + tier.prefix(1).uppercased() + tier.dropFirst()
        switch self {
        case .en: return "\(name), \(months) \(months == 1 ? "month" : "months")"
        case .ru: return "\(name), \(months) \(Self.russianPlural(months, one: "месяц", few: "месяца", many: "месяцев"))"
        }
    }

    /// The Russian word for a count: 1 месяц, 3 месяца, 6 месяцев, 21 месяц, 12 месяцев.
    public static func russianPlural(_ count: Int, one: String, few: String, many: String) -> String {
        switch (count % 10, count % 100) {
        case (1, let tens) where tens != 11: one
        case (2...4, let tens) where !(12...14).contains(tens): few
        default: many
        }
    }

    /// A date as people read it: "27 декабря 2026" / "27 December 2026" (UTC).
    public func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: self == .ru ? "ru_RU" : "en_GB")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.setLocalizedDateFormatFromTemplate("d MMMM yyyy")
        return formatter.string(from: date)
    }

    /// A moment as people read it, to the minute: "15 мая 2026 г., 12:00 UTC" / "15 May 2026, 12:00 UTC".
    public func dateTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: self == .ru ? "ru_RU" : "en_GB")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.setLocalizedDateFormatFromTemplate("d MMMM yyyy HH:mm")
        return formatter.string(from: date) + " UTC"
    }
}
