import BillingCore
import Foundation

/// Reads CloudPayments notification fields (form-urlencoded or JSON) into a `PaymentNotification`.
struct CloudPaymentsNotificationParser: Sendable {
    func parse(kind: NotificationKind, body: [UInt8], contentType: String?) throws(NotificationError) -> PaymentNotification {
        let fields = try Self.fields(body: body, contentType: contentType)
        // No acquirer sends a NUL; PostgreSQL cannot store one, so such a value is refused whole.
        guard !fields.contains(where: { $0.0.contains("\u{0}") || $0.1.contains("\u{0}") }) else {
            throw .malformed("a field contains a NUL character")
        }
        let lookup = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        func field(_ name: String) -> String? { lookup[name].flatMap { $0.isEmpty ? nil : $0 } }
        // Ids and tokens go into unique indexes (a btree row holds at most 2704 bytes), and no
        // acquirer sends long ones: a longer value is refused here, not by PostgreSQL as a 500.
        for (name, limit) in Self.lengthLimits {
            if let value = field(name), value.utf8.count > limit { throw .malformed("\(name) is longer than \(limit) bytes") }
        }

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
            // Stored in an `integer` column: a code beyond Int32 would fail the whole transaction.
            let code = field("ReasonCode").flatMap(Int32.init).map(Int.init) ?? 0
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
            // A Pay for a two-stage payment is a hold ("Authorized"): no money until it is confirmed.
            isHold: kind == .pay && field("Status")?.lowercased() == "authorized",
            paymentTransactionID: field("PaymentTransactionId"),
            loggablePayload: FormEncoding.encode(redacted(fields))
        )
    }

    /// The longest value each identifying field may have.
    static let lengthLimits = [
        ("TransactionId", 64), ("Id", 64), ("PaymentTransactionId", 64), ("InvoiceId", 256), ("AccountId", 256), ("Token", 512),
    ]

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
            // JSON true and false are NSNumbers too; as text they are not amounts or codes.
            case let number as NSNumber where String(cString: number.objCType) == "c": (name, number.boolValue ? "true" : "false")
            case let number as NSNumber: (name, number.stringValue)
            default:
                // Nested objects (Data) stay JSON text, as in the form-encoded variant.
                (name, (try? JSONSerialization.data(withJSONObject: value)).map { String(decoding: $0, as: UTF8.self) } ?? "")
            }
        }
    }

    private static func card(_ field: (String) -> String?) -> CardDetails? {
        guard let firstSix = field("CardFirstSix"), let lastFour = field("CardLastFour") else { return nil }
        let expiry = field("CardExpDate").flatMap(Self.expiry)
        return CardDetails(firstSix: firstSix, lastFour: lastFour, brand: field("CardType"), expiryMonth: expiry?.month, expiryYear: expiry?.year)
    }

    /// `MM/YY`; anything else (including absurd numbers) is no expiry rather than an error, since
    /// the expiry is informational and the payment itself must still be recorded.
    static func expiry(_ text: String) -> (month: Int, year: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...2).contains(parts[0].count), parts[1].count == 2,
              let month = Int(parts[0]), (1...12).contains(month), let year = Int(parts[1]), year >= 0
        else { return nil }
        return (month, 2000 + year)
    }
}

/// CloudPayments writes times as `yyyy-MM-dd HH:mm:ss` in UTC; its API also as
/// `yyyy-MM-ddTHH:mm:ss`, sometimes with fractional seconds or a trailing `Z`. A value that is not
/// a real date (month 99, year 300000) is nil, never rolled over into another date.
enum CloudPaymentsDate {
    static func parse(_ text: String) -> Date? {
        var body = Substring(text)
        if body.hasSuffix("Z") { body = body.dropLast() }
        if let dot = body.lastIndex(of: "."), body[body.index(after: dot)...].allSatisfy({ $0.isASCII && $0.isNumber }) { body = body[..<dot] }
        let parts = body.split(omittingEmptySubsequences: false, whereSeparator: { "-: T".contains($0) })
        guard parts.count == 6, parts[0].count == 4, parts.dropFirst().allSatisfy({ $0.count == 2 }),
              parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } })
        else { return nil }
        let numbers = parts.compactMap { Int($0) }
        guard numbers.count == 6, (2000...2999).contains(numbers[0]), (1...12).contains(numbers[1]), (1...31).contains(numbers[2]),
              (0...23).contains(numbers[3]), (0...59).contains(numbers[4]), (0...59).contains(numbers[5])
        else { return nil }
        var components = DateComponents()
        components.timeZone = TimeZone(identifier: "UTC")
        (components.year, components.month, components.day) = (numbers[0], numbers[1], numbers[2])
        (components.hour, components.minute, components.second) = (numbers[3], numbers[4], numbers[5])
        // February 30th would roll over into March: only a date that reads back the same is real.
        guard let date = utcCalendar.date(from: components),
              utcCalendar.component(.day, from: date) == numbers[2], utcCalendar.component(.month, from: date) == numbers[1]
        else { return nil }
        return date
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
