/// A CloudPayments reason: the `ReasonCode`, its `Reason` name, and the `CardHolderMessage` shown to the payer.
/// Every code the sandbox can produce is listed here and nowhere else.
struct TransactionReason: Hashable, Sendable {
    let code: Int
    let name: String
    let cardHolderMessage: String

    static func withCode(_ code: Int) -> TransactionReason? {
        all.first { $0.code == code }
    }

    static let approved = TransactionReason(code: 0, name: "Approved", cardHolderMessage: "Оплата успешно проведена")

    // Issuer and gateway declines.
    static let referToCardIssuer = TransactionReason(code: 5001, name: "ReferToCardIssuer", cardHolderMessage: "Свяжитесь с вашим банком или воспользуйтесь другой картой")
    static let invalidMerchant = TransactionReason(code: 5003, name: "InvalidMerchant", cardHolderMessage: "Свяжитесь с вашим банком или воспользуйтесь другой картой")
    static let pickUpCard = TransactionReason(code: 5004, name: "PickUpCard", cardHolderMessage: "Карта заблокирована. Свяжитесь с вашим банком")
    static let doNotHonor = TransactionReason(code: 5005, name: "DoNotHonor", cardHolderMessage: "Банк отклонил операцию. Свяжитесь с банком или воспользуйтесь другой картой")
    static let error = TransactionReason(code: 5006, name: "Error", cardHolderMessage: "Ошибка сети. Повторите попытку позже")
    static let invalidTransaction = TransactionReason(code: 5012, name: "InvalidTransaction", cardHolderMessage: "Карта не предназначена для таких операций. Воспользуйтесь другой картой")
    static let amountError = TransactionReason(code: 5013, name: "AmountError", cardHolderMessage: "Слишком маленькая или слишком большая сумма операции")
    static let invalidCardNumber = TransactionReason(code: 5014, name: "InvalidCardNumber", cardHolderMessage: "Неверный номер карты. Проверьте данные карты")
    static let noSuchIssuer = TransactionReason(code: 5015, name: "NoSuchIssuer", cardHolderMessage: "Неизвестный эмитент карты. Воспользуйтесь другой картой")
    static let customerCancellation = TransactionReason(code: 5017, name: "CustomerCancellation", cardHolderMessage: "Операция отменена держателем карты")
    static let formatError = TransactionReason(code: 5030, name: "FormatError", cardHolderMessage: "Ошибка на стороне эквайера. Повторите попытку позже")
    static let expiredCardPickup = TransactionReason(code: 5033, name: "ExpiredCardPickup", cardHolderMessage: "Истёк срок действия карты. Воспользуйтесь другой картой")
    static let suspectedFraud = TransactionReason(code: 5034, name: "SuspectedFraud", cardHolderMessage: "Банк отклонил операцию по подозрению в мошенничестве")
    static let restrictedCard = TransactionReason(code: 5036, name: "RestrictedCard", cardHolderMessage: "На карте действуют ограничения. Свяжитесь с вашим банком")
    static let lostCard = TransactionReason(code: 5041, name: "LostCard", cardHolderMessage: "Карта заблокирована как утерянная. Свяжитесь с вашим банком")
    static let stolenCard = TransactionReason(code: 5043, name: "StolenCard", cardHolderMessage: "Карта заблокирована как украденная. Свяжитесь с вашим банком")
    static let insufficientFunds = TransactionReason(code: 5051, name: "InsufficientFunds", cardHolderMessage: "Недостаточно средств на карте")
    static let expiredCard = TransactionReason(code: 5054, name: "ExpiredCard", cardHolderMessage: "Истёк срок действия карты. Проверьте данные или воспользуйтесь другой картой")
    static let invalidPin = TransactionReason(code: 5055, name: "InvalidPin", cardHolderMessage: "Неверный PIN-код")
    static let transactionNotPermitted = TransactionReason(code: 5057, name: "TransactionNotPermitted", cardHolderMessage: "Операция по карте запрещена. Свяжитесь с вашим банком")
    static let exceedWithdrawalFrequency = TransactionReason(code: 5065, name: "ExceedWithdrawalFrequency", cardHolderMessage: "Превышен лимит операций по карте")
    static let incorrectCVV = TransactionReason(code: 5082, name: "IncorrectCVV", cardHolderMessage: "Неверный CVV-код")
    static let timeout = TransactionReason(code: 5091, name: "Timeout", cardHolderMessage: "Банк не ответил вовремя. Повторите попытку позже")
    static let cannotReachNetwork = TransactionReason(code: 5092, name: "CannotReachNetwork", cardHolderMessage: "Банк недоступен. Повторите попытку позже")
    static let systemError = TransactionReason(code: 5096, name: "SystemError", cardHolderMessage: "Ошибка банка. Повторите попытку позже")
    static let authenticationFailed = TransactionReason(code: 5206, name: "AuthenticationFailed", cardHolderMessage: "Не пройдена проверка 3-D Secure")
    static let authenticationUnavailable = TransactionReason(code: 5207, name: "AuthenticationUnavailable", cardHolderMessage: "Проверка 3-D Secure недоступна. Повторите попытку позже")
    static let antiFraud = TransactionReason(code: 5300, name: "AntiFraud", cardHolderMessage: "Операция отклонена системой защиты от мошенничества")

    // Refusals by the merchant's Check notification.
    static let invalidInvoiceId = TransactionReason(code: 3001, name: "InvalidInvoiceId", cardHolderMessage: "Магазин отклонил платёж: неверный номер заказа")
    static let invalidAccountId = TransactionReason(code: 3002, name: "InvalidAccountId", cardHolderMessage: "Магазин отклонил платёж: неверный идентификатор покупателя")
    static let invalidAmount = TransactionReason(code: 3003, name: "InvalidAmount", cardHolderMessage: "Магазин отклонил платёж: неверная сумма")
    static let outOfDate = TransactionReason(code: 3004, name: "OutOfDate", cardHolderMessage: "Магазин отклонил платёж: срок оплаты истёк")
    static let notAccepted = TransactionReason(code: 3008, name: "NotAccepted", cardHolderMessage: "Магазин не принял платёж")

    static let all: [TransactionReason] = [
        approved, referToCardIssuer, invalidMerchant, pickUpCard, doNotHonor, error, invalidTransaction, amountError,
        invalidCardNumber, noSuchIssuer, customerCancellation, formatError, expiredCardPickup, suspectedFraud,
        restrictedCard, lostCard, stolenCard, insufficientFunds, expiredCard, invalidPin, transactionNotPermitted,
        exceedWithdrawalFrequency, incorrectCVV, timeout, cannotReachNetwork, systemError, authenticationFailed,
        authenticationUnavailable, antiFraud, invalidInvoiceId, invalidAccountId, invalidAmount, outOfDate, notAccepted,
    ]
}
