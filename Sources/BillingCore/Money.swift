import Foundation

/// A currency by ISO 4217 code. Plans are sold in roubles; money may arrive in any currency the
/// acquirer takes (a payer can change the widget's currency), and must then go back in it.
public struct Currency: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    /// Digits after the decimal point in the acquirer's textual format.
    public let minorUnitDigits: Int

    /// The currencies CloudPayments takes payments in; all have two minor digits.
    public static let acceptedByAcquirers: Set<String> = [
        "RUB", "EUR", "USD", "GBP", "UAH", "BYN", "KZT", "AZN", "CHF", "CZK", "CAD", "PLN", "SEK", "TRY", "CNY",
        "INR", "BRL", "ZAR", "UZS", "BGN", "RON", "AUD", "HKD", "GEL", "KGS", "AMD", "TJS",
    ]

    public init?(rawValue: String) {
        let code = rawValue.uppercased()
        guard Self.acceptedByAcquirers.contains(code) else { return nil }
        self.init(code: code, minorUnitDigits: 2)
    }

    private init(code: String, minorUnitDigits: Int) {
        self.rawValue = code
        self.minorUnitDigits = minorUnitDigits
    }

    public static let rub = Currency(code: "RUB", minorUnitDigits: 2)

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        guard let currency = Currency(rawValue: code) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "Unsupported currency \(code)"))
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// An amount of money in integer minor units (kopecks for RUB); never a floating point number.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public var amount: Int64
    public var currency: Currency

    public init(amount: Int64, currency: Currency) {
        self.amount = amount
        self.currency = currency
    }

    public static func rub(_ minorUnits: Int64) -> Money { Money(amount: minorUnits, currency: .rub) }

    /// The amount as the decimal text acquirers use, e.g. 29900 kopecks -> "299.00".
    public var decimalString: String {
        let scale = Self.scale(currency.minorUnitDigits)
        let sign = amount < 0 ? "-" : ""
        let magnitude = amount.magnitude
        let major = magnitude / UInt64(scale)
        let minor = magnitude % UInt64(scale)
        guard currency.minorUnitDigits > 0 else { return "\(sign)\(major)" }
        let minorText = String(minor)
        let padded = String(repeating: "0", count: currency.minorUnitDigits - minorText.count) + minorText
        return "\(sign)\(major).\(padded)"
    }

    /// Parses acquirer decimal text ("299", "299.0", "299.00") exactly, without floating point.
    /// Returns nil for text that is not a plain non-negative decimal or has more fractional
    /// digits than the currency allows (a fraction of a kopeck is a bug, not a rounding case).
    public init?(decimalString text: String, currency: Currency) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let majorPart = parts.first, !majorPart.isEmpty,
              majorPart.allSatisfy(\.isASCIIDigit), majorPart.count <= 15
        else { return nil }
        let written = parts.count == 2 ? parts[1] : ""
        // Acquirers write trailing zeros freely ("299.000"); only significant digits matter. Cut in
        // one pass: dropping one zero at a time recounts the text each time, and 64 KiB of zeros
        // (a whole notification body) took 10 s.
        guard written.dropFirst(currency.minorUnitDigits).allSatisfy({ $0 == "0" }) else { return nil }
        var fraction = String(written.prefix(currency.minorUnitDigits))
        guard fraction.allSatisfy(\.isASCIIDigit) else { return nil }
        fraction += String(repeating: "0", count: currency.minorUnitDigits - fraction.count)
        guard let major = Int64(majorPart), let minor = Int64(fraction.isEmpty ? "0" : fraction) else { return nil }
        self.init(amount: major * Self.scale(currency.minorUnitDigits) + minor, currency: currency)
    }

    public var description: String { "\(decimalString) \(currency)" }

    private static func scale(_ digits: Int) -> Int64 {
        (0..<digits).reduce(1) { value, _ in value * 10 }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
