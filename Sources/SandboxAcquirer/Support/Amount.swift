import Foundation

/// A non-negative amount of money in minor units (kopecks, cents): CloudPayments amounts carry two decimal places.
struct Amount: Hashable, Comparable, Sendable {
    let minorUnits: Int64

    /// The smallest amount the API accepts for a payment or a refund (0.01).
    static let smallestAccepted = Amount(minorUnits: 1)
    static let zero = Amount(minorUnits: 0)

    init(minorUnits: Int64) {
        self.minorUnits = minorUnits
    }

    /// Parses decimal text such as "299", "299.0" or "299.00" digit by digit, so no binary floating point is involved.
    /// Fractional digits past the second are allowed only when they are zeros, as a JSON number like 299.000 means 299.00.
    init?(decimalText: String) {
        let parts = decimalText.trimmingCharacters(in: .whitespaces).split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let integerPart = parts.first, !integerPart.isEmpty, integerPart.allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigit), fraction.dropFirst(2).allSatisfy({ $0 == "0" }) else {
            return nil
        }
        guard parts.count == 1 || !fraction.isEmpty else { return nil }
        let cents = (fraction.prefix(2) + String(repeating: "0", count: max(0, 2 - fraction.count)))
        guard let units = Int64(integerPart), let centsValue = Int64(cents) else { return nil }
        let (scaled, overflowed) = units.multipliedReportingOverflow(by: 100)
        guard !overflowed, scaled <= Int64.max - centsValue else { return nil }
        self.minorUnits = scaled + centsValue
    }

    /// The amount as CloudPayments writes it: "299.00".
    var decimalText: String {
        let cents = minorUnits % 100
        return "\(minorUnits / 100).\(cents < 10 ? "0" : "")\(cents)"
    }

    static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.minorUnits < rhs.minorUnits }
    static func + (lhs: Amount, rhs: Amount) -> Amount { Amount(minorUnits: lhs.minorUnits + rhs.minorUnits) }
    static func - (lhs: Amount, rhs: Amount) -> Amount { Amount(minorUnits: lhs.minorUnits - rhs.minorUnits) }
}
