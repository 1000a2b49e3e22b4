import BillingCore
import Foundation

/// Reads CloudPayments notification fields (form-urlencoded or JSON) into a `PaymentNotification`.
struct CloudPaymentsNotificationParser: Sendable {
    func parse(kind: NotificationKind, body: [UInt8], contentType: String?) throws(NotificationError) -> PaymentNotification {
        let fields = try Self.fields(body: body, contentType: contentType)
        let lookup = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        func field(_ name: String) -> String? { lookup[name].flatMap { $0.isEmpty ? nil : $0 } }

        guard let transactionID = field("TransactionId") ?? field("Id") else {
            throw .malformed("TransactionId is missing")
        }
        var amount: Money?
        if let amountText = field("Amount") {
            let currencyCode = field("Currency") ?? Currency.rub.rawValue
            guard let currency = Currency(rawValue: currencyCode) else { throw .malformed("unsupported Currency \(currencyCode)") }
            guard let parsed = Money(decimalString: amountText, currency: currency) else { throw .malformed("Amount is not a decimal: \(amountText)") }
            amount = parsed
        }
        var decline: Decline?
        if kind == .fail {
            let code = field("ReasonCode").flatMap(Int.init) ?? 0
            let message = field("CardHolderMessage") ?? DeclineReason.forCode(code).russian
            decline = Decline(code: code, message: message)
        }
        return PaymentNotification(
            kind: kind,
            transactionID: transactionID,
            invoiceID: field("InvoiceId"),
            accountID: field("AccountId"),
            amount: amount,
            occurredAt: field("DateTime").flatMap(CloudPaymentsDate.parse),
            card: Self.card(field),
            token: field("Token"),
            decline: decline,
            paymentTransactionID: field("PaymentTransactionId"),
            loggablePayload: FormEncoding.encode(redacted(fields))
        )
    }

    private static func fields(body: [UInt8], contentType: String?) throws(NotificationError) -> [(String, String)] {
        let text = String(decoding: body, as: UTF8.self)
        guard contentType?.lowercased().contains("json") == true else { return FormEncoding.decode(text) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw .malformed("body is not a JSON object")
        }
        return object.map { name, value in
            switch value {
            case let text as String: (name, text)
            case is NSNull: (name, "")
            case let number as NSNumber: (name, number.stringValue)
            default:
                // Nested objects (Data) stay JSON text, as in the form-encoded variant.
                (name, (try? JSONSerialization.data(withJSONObject: value)).map { String(decoding: $0, as: UTF8.self) } ?? "")
            }
        }
    }

    private static func card(_ field: (String) -> String?) -> CardDetails? {
        guard let firstSix = field("CardFirstSix"), let lastFour = field("CardLastFour") else { return nil }
        // CardExpDate is MM/YY.
        let expiry = field("CardExpDate")?.split(separator: "/").compactMap { Int($0) }
        let month = expiry?.count == 2 ? expiry?[0] : nil
        let year = expiry?.count == 2 ? expiry.map { 2000 + $0[1] } : nil
        return CardDetails(firstSix: firstSix, lastFour: lastFour, brand: field("CardType"), expiryMonth: month, expiryYear: year)
    }
}

/// CloudPayments writes times as `yyyy-MM-dd HH:mm:ss` or `yyyy-MM-ddTHH:mm:ss`, in UTC.
enum CloudPaymentsDate {
    static func parse(_ text: String) -> Date? {
        let digits = text.split(whereSeparator: { "-: T".contains($0) }).compactMap { Int($0) }
        guard digits.count >= 6 else { return nil }
        var components = DateComponents()
        components.timeZone = TimeZone(identifier: "UTC")
        (components.year, components.month, components.day) = (digits[0], digits[1], digits[2])
        (components.hour, components.minute, components.second) = (digits[3], digits[4], digits[5])
        return utcCalendar.date(from: components)
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
