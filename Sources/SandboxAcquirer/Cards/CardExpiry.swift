import Foundation

/// A card's expiry month, written `MM/YY` as in `CardExpDate`.
struct CardExpiry: Hashable, Sendable {
    let month: Int
    /// Four digits: `YY` is read as 20YY.
    let year: Int

    init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
              let month = Int(parts[0]), let year = Int(parts[1]), (1...12).contains(month)
        else { return nil }
        self.month = month
        self.year = 2000 + year
    }

    var text: String {
        let mm = month < 10 ? "0\(month)" : "\(month)"
        return "\(mm)/\(String(year).suffix(2))"
    }

    /// A card stays valid through the last day of its expiry month.
    func hasExpired(at date: Date) -> Bool {
        let now = SandboxDates.yearAndMonth(of: date)
        return (year, month) < (now.year, now.month)
    }
}
