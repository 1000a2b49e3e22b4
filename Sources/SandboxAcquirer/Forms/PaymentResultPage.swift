import Hummingbird

/// The last page of the hosted form: it shows the result and tells the widget on the parent page, which closes the
/// overlay and calls the merchant's callbacks.
enum PaymentResultPage {
    /// A settled payment, approved or declined.
    static func response(for transaction: Transaction) -> Response {
        let success = transaction.status != .declined
        return render(
            success: success,
            text: success ? "Оплата прошла успешно / Payment successful" : transaction.reason.cardHolderMessage,
            transactionID: .number(String(transaction.id)),
            reasonCode: .number(String(transaction.reason.code))
        )
    }

    /// A payment that could not even start, such as a widget opened with another terminal's Public ID.
    static func response(for error: RequestError) -> Response {
        render(success: false, text: error.message, transactionID: .null, reasonCode: .null)
    }

    private static func render(success: Bool, text: String, transactionID: JSONValue, reasonCode: JSONValue) -> Response {
        let message = JSONValue.object([
            ("type", .string("sandbox-payment")), ("success", .bool(success)),
            ("transactionId", transactionID), ("reasonCode", reasonCode), ("message", .string(text)),
        ])
        return HTMLPage.response(title: "Результат оплаты / Payment result (sandbox)", body: """
        <h1>Результат оплаты / Payment result</h1>
        <p id="sandbox-result" class="\(success ? "success" : "failure")">\(text.htmlEscaped)</p>
        <script>window.parent.postMessage(\(message.serializedForScript), '*');</script>
        """)
    }
}
