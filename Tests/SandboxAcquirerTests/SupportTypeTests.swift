import Foundation
@testable import SandboxAcquirer
import Testing

@Suite("Amounts, forms and cards")
struct SupportTypeTests {
    @Test("decimal text becomes exact minor units", arguments: [
        ("299.00", 29900), ("299", 29900), ("299.0", 29900), ("0.01", 1), ("299.000", 29900), ("1234567.89", 123456789),
    ])
    func amounts(text: String, minorUnits: Int64) {
        #expect(Amount(decimalText: text)?.minorUnits == minorUnits)
    }

    @Test("unusable amounts are refused", arguments: ["", "-1", "1.005", "1e3", "abc", "1.", ".5", "99999999999999999999"])
    func badAmounts(text: String) {
        #expect(Amount(decimalText: text) == nil)
    }

    @Test("minor units print with two decimals")
    func amountText() {
        #expect(Amount(minorUnits: 29900).decimalText == "299.00")
        #expect(Amount(minorUnits: 5).decimalText == "0.05")
    }

    @Test("JSON numbers keep their digits")
    func jsonNumbers() throws {
        let value = try JSONValue.parse(Data(#"{"Amount":299.99}"#.utf8))
        guard case .object(let members) = value, case .number(let digits)? = members.first?.value else {
            Issue.record("not an object with a number")
            return
        }
        #expect(digits == "299.99")
    }

    @Test("form encoding is .NET-style (space as +, lowercase %xx, -_.!*() bare) and reads both + and %20")
    func formEncoding() {
        #expect(FormURLEncoding.encode([("a b", "c+d&é")]) == "a+b=c%2bd%26%c3%a9")
        #expect(FormURLEncoding.encode([("k", "-_.!*()~'/:@")]) == "k=-_.!*()%7e%27%2f%3a%40")
        #expect(FormURLEncoding.encode([("Name", "")]) == "Name=")
        #expect(FormFields(encoded: "x=a+b&y=a%20b&z=")["x"] == "a b")
        #expect(FormFields(encoded: "x=a+b&y=a%20b&z=")["y"] == "a b")
        #expect(FormFields(encoded: "x=a+b&y=a%20b&z=")["z"] == nil)
    }

    @Test("card numbers: Luhn, brand and a mask that hides the middle")
    func cardNumbers() throws {
        let number = try #require(CardNumber("2200 0000 0000 0004"))
        #expect(number.isLuhnValid)
        #expect(number.brand == .mir)
        #expect(number.masked == "220000******0004")
        #expect(CardNumber("4000000000000001")?.isLuhnValid == false)
        #expect(CardNumber("5555555555554444")?.brand == .masterCard)
    }

    @Test("every reason code is listed once")
    func reasonTable() {
        let codes = TransactionReason.all.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(TransactionReason.withCode(5051)?.name == "InsufficientFunds")
    }
}
