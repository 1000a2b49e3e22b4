import Foundation
import Hummingbird

/// The parameters of an API call, whichever body encoding the client picked; names match case-insensitively,
/// as the real service binds them.
struct APIFields: Sendable {
    private let values: [String: JSONValue]

    init(_ pairs: [(key: String, value: JSONValue)]) {
        values = Dictionary(pairs.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Reads a JSON or `application/x-www-form-urlencoded` body; an empty body has no fields.
    init(contentType: String?, body: ByteBuffer) throws(RequestError) {
        let text = String(buffer: body)
        if contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            self.init(FormFields(encoded: text).pairs.map { ($0.key, JSONValue.string($0.value)) })
            return
        }
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            self.init([])
            return
        }
        guard case .object(let members)? = try? JSONValue.parse(Data(text.utf8)) else {
            throw RequestError("Request body must be a JSON object or a form")
        }
        self.init(members)
    }

    /// The field as text: numbers keep their digits, and a JSON object or array (as `JsonData` may be) becomes its JSON text.
    /// Empty text counts as absent, as a form cannot send "no value" any other way.
    func text(_ name: String) -> String? {
        let value = values[name.lowercased()]
        let text: String? = switch value {
        case .string(let string): string
        case .number(let digits): digits
        case .bool(let flag): flag ? "true" : "false"
        case .array, .object: value?.serialized
        case .null, nil: nil
        }
        return text?.isEmpty == true ? nil : text
    }

    /// A yes/no field: JSON `true`, or `1` / `true` as a number or text (forms and older clients send those); anything
    /// else, absence included, is no.
    func flag(_ name: String) -> Bool {
        guard let text = text(name)?.lowercased() else { return false }
        return text == "true" || text == "1"
    }

    func requiredText(_ name: String) throws(RequestError) -> String {
        guard let text = text(name) else { throw RequestError("\(name) is required") }
        return text
    }

    func transactionID(_ name: String = "TransactionId") throws(RequestError) -> Int64 {
        guard let id = Int64(try requiredText(name)) else { throw RequestError("\(name) is invalid") }
        return id
    }

    /// An amount of at least 0.01 with at most two decimal places, given as a JSON number or as text.
    func amount(_ name: String = "Amount") throws(RequestError) -> Amount {
        guard let amount = Amount(decimalText: try requiredText(name)) else {
            throw RequestError("\(name) must be a decimal number with at most 2 decimal places")
        }
        guard amount >= .smallestAccepted else { throw RequestError("\(name) must be at least 0.01") }
        return amount
    }

    /// A three-letter ISO 4217 code; RUB when absent, as in CloudPayments.
    func currency() throws(RequestError) -> String {
        guard let code = text("Currency")?.uppercased() else { return "RUB" }
        guard code.count == 3, code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw RequestError("Currency is invalid")
        }
        return code
    }

    /// The merchant's description fields, common to every payment method.
    var paymentDetails: PaymentDetails {
        PaymentDetails(
            invoiceID: text("InvoiceId"),
            accountID: text("AccountId"),
            description: text("Description"),
            email: text("Email"),
            jsonData: text("JsonData"),
            ipAddress: text("IpAddress")
        )
    }
}
