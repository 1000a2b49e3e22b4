/// A primary account number, digits only; it never appears whole in logs or responses, only `masked`.
struct CardNumber: Hashable, Sendable {
    let digits: String

    /// Accepts 12 to 19 digits; spaces between groups are ignored as card forms and test-card tables print them.
    init?(_ text: String) {
        let digits = text.filter { $0 != " " }
        guard (12...19).contains(digits.count), digits.allSatisfy(\.isASCIIDigit) else { return nil }
        self.digits = digits
    }

    var firstSix: String { String(digits.prefix(6)) }
    var lastFour: String { String(digits.suffix(4)) }

    /// First six and last four, the most PCI DSS lets us show.
    var masked: String {
        firstSix + String(repeating: "*", count: digits.count - 10) + lastFour
    }

    var isLuhnValid: Bool {
        let sum = digits.reversed().enumerated().reduce(0) { sum, element in
            let digit = element.element.wholeNumberValue ?? 0
            guard element.offset.isMultiple(of: 2) == false else { return sum + digit }
            let doubled = digit * 2
            return sum + (doubled > 9 ? doubled - 9 : doubled)
        }
        return sum.isMultiple(of: 10)
    }

    var brand: CardBrand { CardBrand(firstDigits: digits) }
}

/// The payment system, reported as `CardType`.
enum CardBrand: String, Sendable {
    case visa = "Visa"
    case masterCard = "MasterCard"
    case mir = "Mir"
    case unknown = "Unknown"

    init(firstDigits digits: String) {
        let prefix4 = Int(digits.prefix(4)) ?? 0
        let prefix2 = prefix4 / 100
        switch prefix4 {
        case _ where digits.hasPrefix("4"): self = .visa
        case 2200...2204: self = .mir
        case 2221...2720: self = .masterCard
        case _ where (51...55).contains(prefix2): self = .masterCard
        default: self = .unknown
        }
    }
}
