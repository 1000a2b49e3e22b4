import Foundation

/// What the cardholder typed: the card the sandbox authorises, whether it arrived in a cryptogram or through the hosted form.
/// The CVV is checked for shape and then forgotten, as a real gateway must never store it.
struct CardDetails: Sendable {
    let number: CardNumber
    let expiry: CardExpiry
    let holderName: String

    /// Why a card is not accepted as typed; the text is shown on the hosted form.
    struct FormatError: Error {
        let message: String
    }

    init(number: String, expiry: String, cvv: String, holderName: String) throws(FormatError) {
        guard let cardNumber = CardNumber(number) else {
            throw FormatError(message: "Проверьте номер карты / Check the card number")
        }
        guard let cardExpiry = CardExpiry(expiry) else {
            throw FormatError(message: "Срок действия в формате ММ/ГГ / Expiry date must be MM/YY")
        }
        guard (3...4).contains(cvv.count), cvv.allSatisfy(\.isASCIIDigit) else {
            throw FormatError(message: "CVV — 3 или 4 цифры / CVV must be 3 or 4 digits")
        }
        self.number = cardNumber
        self.expiry = cardExpiry
        self.holderName = holderName.trimmingCharacters(in: .whitespaces)
    }

    /// The same card with the holder name the merchant sent separately (`Name`), which takes precedence.
    func withHolderName(_ name: String) -> CardDetails {
        CardDetails(number: number, expiry: expiry, holderName: name)
    }

    private init(number: CardNumber, expiry: CardExpiry, holderName: String) {
        self.number = number
        self.expiry = expiry
        self.holderName = holderName
    }

    /// The decline a card earns before anyone is asked: a number that fails the Luhn check, or an expired card.
    func rejection(at date: Date) -> TransactionReason? {
        if !number.isLuhnValid { return .invalidCardNumber }
        if expiry.hasExpired(at: date) { return .expiredCard }
        return nil
    }
}
