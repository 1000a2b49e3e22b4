import Foundation

/// The options a page passes to the widget's `pay(kind, options, callbacks)`, as they reach the card form:
/// query parameters on GET /form, carried in hidden fields on submit, through 3-D Secure in the return address,
/// and into the "Try again" form after a decline, so every attempt of one widget session pays the same way.
struct WidgetOptions: Sendable {
    let captureMode: CaptureMode
    let amount: Amount
    let currency: String
    let details: PaymentDetails
    /// The widget's `saveCard: true`, or `data.CloudPayments.recurrent`: the payer agreed to keep the card.
    let saveCard: Bool

    /// The form parameter names, which are the widget's option names.
    private static let carriedNames = [
        "kind", "publicId", "amount", "currency", "description", "accountId", "invoiceId", "email", "data", "saveCard",
    ]

    private let carried: [(key: String, value: String)]

    /// Reads the options, refusing what the real widget would: another terminal's Public ID or an unusable amount.
    init(fields: FormFields, expectedPublicID: String) throws(RequestError) {
        guard fields["publicId"] == expectedPublicID else { throw RequestError("Unknown publicId") }
        guard let amountText = fields["amount"], let amount = Amount(decimalText: amountText), amount >= .smallestAccepted else {
            throw RequestError("amount must be a number of at least 0.01 with at most 2 decimal places")
        }
        captureMode = CaptureMode(rawValue: fields["kind"] ?? "charge") ?? .charge
        self.amount = amount
        currency = fields["currency"]?.uppercased() ?? "RUB"
        details = PaymentDetails(
            invoiceID: fields["invoiceId"],
            accountID: fields["accountId"],
            description: fields["description"],
            email: fields["email"],
            jsonData: fields["data"],
            ipAddress: nil
        )
        saveCard = ["true", "1"].contains(fields["saveCard"]?.lowercased()) || Self.asksForRecurrent(data: fields["data"])
        carried = Self.carriedNames.compactMap { name in fields[name].map { (name, $0) } }
    }

    /// A `recurrent` member in `data.CloudPayments` asks CloudPayments to charge the card again later, which needs
    /// the card kept; the real service then also starts a subscription of its own, which the sandbox does not emulate.
    private static func asksForRecurrent(data: String?) -> Bool {
        guard let data, case .object(let members)? = try? JSONValue.parse(Data(data.utf8)),
              case .object(let cloudPayments)? = members.first(where: { $0.key.lowercased() == "cloudpayments" })?.value,
              let recurrent = cloudPayments.first(where: { $0.key.lowercased() == "recurrent" })?.value
        else { return false }
        if case .null = recurrent { return false }
        return true
    }

    /// Hidden inputs that carry the options through a form's submit.
    var hiddenInputs: String {
        carried.map { HTMLPage.hiddenInput(name: $0.key, value: $0.value) }.joined(separator: "\n")
    }

    /// The options as a query string, for an address the browser comes back to (the 3-D Secure return).
    var query: String {
        FormURLEncoding.encode(carried)
    }
}
