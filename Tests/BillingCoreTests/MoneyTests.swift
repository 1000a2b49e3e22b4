import BillingCore
import Testing

@Suite("Money")
struct MoneyTests {
    @Test("minor units print as the acquirer's decimal text", arguments: [
        (Int64(29900), "299.00"), (149000, "1490.00"), (1, "0.01"), (10, "0.10"), (0, "0.00"), (-505, "-5.05"),
    ])
    func decimalText(minor: Int64, text: String) {
        #expect(Money.rub(minor).decimalString == text)
    }

    @Test("decimal text parses exactly", arguments: [
        ("299.00", Int64(29900)), ("299", 29900), ("299.0", 29900), ("0.01", 1), ("2690.5", 269050), ("299.000", 29900),
    ])
    func parses(text: String, minor: Int64) {
        #expect(Money(decimalString: text, currency: .rub) == .rub(minor))
    }

    @Test("text that is not an exact amount is refused", arguments: ["", "abc", "1.001", "-1", "1,00", "1.2.3", ".5", "1e3", "99999999999999999"])
    func refuses(text: String) {
        #expect(Money(decimalString: text, currency: .rub) == nil)
    }

    @Test("currencies acquirers take are known, with two minor digits; anything else is not a currency")
    func currency() {
        #expect(Currency(rawValue: "rub") == .rub)
        #expect(Currency(rawValue: "USD")?.minorUnitDigits == 2)
        #expect(Currency(rawValue: "USD") != .rub)
        #expect(Currency(rawValue: "XYZ") == nil)
        #expect(Currency(rawValue: "") == nil)
    }
}
