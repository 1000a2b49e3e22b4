/// Why an acquirer declined a payment, by its reason code, with a message a viewer understands.
public struct DeclineReason: Hashable, Sendable {
    public var code: Int
    public var name: String
    public var english: String
    public var russian: String
    /// A hard decline will not succeed on retry: the viewer must use another card.
    public var isHard: Bool

    /// The reason for a code; codes we do not know get a generic text rather than nothing.
    public static func forCode(_ code: Int) -> DeclineReason {
        catalog[code] ?? DeclineReason(code: code, name: "Unknown", english: "The payment was declined", russian: "Платёж отклонён", isHard: false)
    }

    private static let catalog: [Int: DeclineReason] = Dictionary(uniqueKeysWithValues: [
        (5001, "ReferToCardIssuer", "Declined by the card issuer", "Отказ эмитента карты", true),
        (5003, "InvalidMerchant", "The card issuer does not accept this merchant", "Эмитент не принимает платежи этого магазина", true),
        (5004, "PickUpCard", "The card is blocked", "Карта заблокирована", true),
        (5005, "DoNotHonor", "Declined by the card issuer", "Отказ эмитента без объяснения причин", true),
        (5006, "Error", "Network error, please try again", "Сетевая ошибка, попробуйте ещё раз", false),
        (5012, "InvalidTransaction", "This card cannot make this payment", "Карта не предназначена для такой операции", true),
        (5013, "AmountError", "The amount is too small or too large", "Слишком маленькая или слишком большая сумма", false),
        (5014, "InvalidCardNumber", "Invalid card number", "Некорректный номер карты", false),
        (5015, "NoSuchIssuer", "Unknown card issuer", "Неизвестный эмитент карты", true),
        (5017, "CustomerCancellation", "The cardholder canceled the payment", "Отказ держателя карты", true),
        (5030, "FormatError", "Please try again", "Ошибка на стороне эквайера, попробуйте ещё раз", false),
        (5033, "ExpiredCardPickup", "The card has expired", "Истёк срок действия карты", true),
        (5034, "SuspectedFraud", "Suspected fraud", "Подозрение на мошенничество", true),
        (5036, "RestrictedCard", "The card is restricted", "Карта не предназначена для платежей", true),
        (5041, "LostCard", "The card is reported lost", "Карта утеряна", true),
        (5043, "StolenCard", "The card is reported stolen", "Карта украдена", true),
        (5051, "InsufficientFunds", "Insufficient funds on the card", "Недостаточно средств на карте", false),
        (5054, "ExpiredCard", "The card has expired", "Истёк срок действия карты", false),
        (5055, "InvalidPin", "Incorrect PIN", "Неверный PIN-код", false),
        (5057, "TransactionNotPermitted", "The card does not allow this payment", "Ограничение на карте", true),
        (5065, "ExceedWithdrawalFrequency", "The card's limit is exceeded", "Превышен лимит операций по карте", false),
        (5082, "IncorrectCVV", "Incorrect CVV code", "Неверный CVV-код", false),
        (5091, "Timeout", "The card issuer is unavailable, please try again", "Эмитент недоступен, попробуйте ещё раз", false),
        (5092, "CannotReachNetwork", "The card issuer is unavailable, please try again", "Эмитент недоступен, попробуйте ещё раз", false),
        (5096, "SystemError", "Acquirer error, please try again", "Ошибка банка-эквайера, попробуйте ещё раз", false),
        (5206, "AuthenticationFailed", "3-D Secure authentication failed", "Не пройдена аутентификация 3-D Secure", false),
        (5207, "AuthenticationUnavailable", "3-D Secure authentication is unavailable", "3-D Secure недоступен", false),
        (5300, "AntiFraud", "Declined by the anti-fraud check", "Отклонено антифрод-системой", true),
        (3001, "InvalidInvoiceId", "The payment could not be matched to an invoice", "Счёт не найден", true),
        (3002, "InvalidAccountId", "The payment does not belong to this account", "Счёт принадлежит другому пользователю", true),
        (3003, "InvalidAmount", "The amount does not match the invoice", "Сумма не совпадает со счётом", true),
        (3004, "OutOfDate", "The invoice has expired; start a new checkout", "Счёт устарел, оформите покупку заново", true),
        (3008, "NotAccepted", "The invoice cannot be paid now", "Счёт не может быть оплачен", true),
    ].map { ($0.0, DeclineReason(code: $0.0, name: $0.1, english: $0.2, russian: $0.3, isHard: $0.4)) })
}
