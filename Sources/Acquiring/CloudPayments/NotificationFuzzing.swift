import BillingCore
import Foundation

/// Runs untrusted bytes through every reader of CloudPayments input and names each invariant they
/// break; the libFuzzer targets (Fuzz/) trap on one, the corpus regression tests report it.
package enum NotificationFuzzing {
    /// The bytes as a notification body of every kind, form-encoded and as JSON.
    package static func notificationViolations(body: [UInt8]) -> [String] {
        var violations: [String] = []
        let parser = CloudPaymentsNotificationParser()
        for kind in NotificationKind.allCases {
            for contentType in [formContentType, jsonContentType] {
                let outcome = Result { () throws(NotificationError) in try parser.parse(kind: kind, body: body, contentType: contentType) }
                if case .success(let notification) = outcome {
                    violations += notificationViolations(notification, kind: kind).map { "\(kind) as \(contentType): \($0)" }
                } else if case .failure(.badSignature) = outcome {
                    violations.append("\(kind) as \(contentType): the parser never checks signatures, yet answered badSignature")
                }
            }
        }
        // Only Pay (holds) and Fail (declines) read fields the other kinds do not.
        for kind in [NotificationKind.pay, .fail] { violations += encodingDisagreements(body: body, kind: kind) }
        return violations
    }

    /// The bytes as form text, and the whole text and every decoded name and value as a date, a
    /// card expiry and an amount.
    package static func fieldViolations(text input: [UInt8]) -> [String] {
        let text = String(decoding: input, as: UTF8.self)
        let fields = FormEncoding.decode(text)
        var violations: [String] = []
        let again = FormEncoding.decode(FormEncoding.encode(fields))
        if again.count != fields.count || zip(again, fields).contains(where: { $0.0 != $1.0 || $0.1 != $1.1 }) {
            violations.append("form fields do not survive encode and decode: \(fields) became \(again)")
        }
        for value in [text] + fields.flatMap({ [$0.0, $0.1] }) {
            violations += dateViolations(value) + expiryViolations(value) + amountViolations(value)
        }
        return violations
    }

    private static let formContentType = "application/x-www-form-urlencoded"
    private static let jsonContentType = "application/json"

    private static func notificationViolations(_ notification: PaymentNotification, kind: NotificationKind) -> [String] {
        var violations: [String] = []
        if notification.kind != kind { violations.append("kind \(notification.kind) instead of \(kind)") }
        if notification.transactionID.isEmpty { violations.append("empty transaction id") }
        let texts = [notification.transactionID, notification.invoiceID, notification.accountID, notification.token,
                     notification.decline?.message, notification.card?.firstSix, notification.card?.lastFour,
                     notification.card?.brand, notification.paymentTransactionID, notification.loggablePayload]
        // PostgreSQL cannot store a NUL: one that got through would fail the transaction later.
        if texts.contains(where: { $0?.contains("\u{0}") == true }) { violations.append("a NUL in a parsed value") }
        if let amount = notification.amount {
            if amount.amount < 0 { violations.append("negative amount \(amount.amount)") }
            if Money(decimalString: amount.decimalString, currency: amount.currency) != amount {
                violations.append("amount \(amount.amount) does not read back from \(amount.decimalString)")
            }
        }
        if let date = notification.occurredAt, !(2000...2999).contains(utcCalendar.component(.year, from: date)) {
            violations.append("date \(date) out of 2000-2999")
        }
        if let card = notification.card {
            if (card.expiryMonth == nil) != (card.expiryYear == nil) { violations.append("half a card expiry") }
            if let month = card.expiryMonth, !(1...12).contains(month) { violations.append("expiry month \(month)") }
            if let year = card.expiryYear, !(2000...2099).contains(year) { violations.append("expiry year \(year)") }
        }
        if (notification.decline != nil) != (kind == .fail) { violations.append("a decline on \(kind), or none on fail") }
        if let code = notification.decline?.code, Int32(exactly: code) == nil { violations.append("decline code \(code) beyond an integer column") }
        if notification.isHold && kind != .pay { violations.append("a hold on \(kind)") }
        // The payload goes to the acquiring log, which must never hold a card token or 3-DS secret.
        let leaked = FormEncoding.decode(notification.loggablePayload)
            .filter { secretFieldNames.contains($0.0.lowercased()) && $0.1 != "[redacted]" }
        if !leaked.isEmpty { violations.append("secret fields in the loggable payload: \(leaked.map(\.0))") }
        return violations
    }

    /// The same fields sent form-encoded and as a JSON object of strings must read the same.
    private static func encodingDisagreements(body: [UInt8], kind: NotificationKind) -> [String] {
        let fields = FormEncoding.decode(String(decoding: body, as: UTF8.self))
        // The parser refuses a NUL in any field, duplicates included, which one JSON key cannot mirror.
        guard !fields.contains(where: { $0.0.contains("\u{0}") || $0.1.contains("\u{0}") }) else { return [] }
        let object = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        guard let json = try? JSONSerialization.data(withJSONObject: object) else {
            return ["\(kind): form fields \(fields) cannot be written as JSON"]
        }
        let parser = CloudPaymentsNotificationParser()
        let form = Result { () throws(NotificationError) in try parser.parse(kind: kind, body: body, contentType: formContentType) }
        let asJSON = Result { () throws(NotificationError) in try parser.parse(kind: kind, body: Array(json), contentType: jsonContentType) }
        switch (form, asJSON) {
        case (.success(let left), .success(let right)) where fingerprint(left) != fingerprint(right):
            return ["\(kind): form reads \(fingerprint(left)), the same fields as JSON read \(fingerprint(right))"]
        case (.success, .failure(let error)), (.failure(let error), .success):
            return ["\(kind): one encoding of the same fields is refused (\(error)), the other accepted"]
        default:
            return []
        }
    }

    /// Everything a notification carries but the log payload, whose field order follows the body.
    private static func fingerprint(_ notification: PaymentNotification) -> String {
        let parts: [Any?] = [notification.kind, notification.transactionID, notification.invoiceID, notification.accountID,
                             notification.amount, notification.occurredAt?.timeIntervalSinceReferenceDate, notification.card,
                             notification.token, notification.decline, notification.isHold, notification.paymentTransactionID]
        return parts.map { $0.map { "\($0)" } ?? "nil" }.joined(separator: "|")
    }

    private static func dateViolations(_ text: String) -> [String] {
        guard let date = CloudPaymentsDate.parse(text) else { return [] }
        let parts = utcCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        guard let year = parts.year, (2000...2999).contains(year) else { return ["date \(date) from \(text.debugDescription) out of 2000-2999"] }
        // A date is only real if it is the one written: no rolling over, no shifting by a time zone.
        let written = [year, parts.month, parts.day, parts.hour, parts.minute, parts.second]
            .map { String(format: "%02ld", $0 ?? -1) }.joined()
        guard String(text.filter { $0.isASCII && $0.isNumber }).hasPrefix(written) else {
            return ["date \(text.debugDescription) read as \(date)"]
        }
        return []
    }

    private static func expiryViolations(_ text: String) -> [String] {
        guard let expiry = CloudPaymentsNotificationParser.expiry(text) else { return [] }
        guard (1...12).contains(expiry.month), (2000...2099).contains(expiry.year) else {
            return ["expiry \(text.debugDescription) read as \(expiry.month)/\(expiry.year)"]
        }
        return []
    }

    private static func amountViolations(_ text: String) -> [String] {
        guard let money = Money(decimalString: text, currency: .rub) else { return [] }
        // 15 major digits and 2 minor ones: what PostgreSQL's bigint and every acquirer can hold.
        guard (0...99_999_999_999_999_999).contains(money.amount) else {
            return ["amount \(text.debugDescription) read as \(money.amount) minor units"]
        }
        guard Money(decimalString: money.decimalString, currency: .rub) == money else {
            return ["amount \(money.amount) does not read back from \(money.decimalString)"]
        }
        // An independent reading: binary floating point is close enough to catch a misplaced digit.
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let approximate = Double(trimmed), abs(approximate * 100 - Double(money.amount)) <= max(1e-6, approximate * 1e-12) else {
            return ["amount \(text.debugDescription) read as \(money.amount) minor units"]
        }
        return []
    }

    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()
}
