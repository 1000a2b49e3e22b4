import Hummingbird

/// The last page of an attempt in the hosted form: it shows the result and tells the widget on the parent page, which
/// closes the overlay on success. After a decline it offers "Try again" (`#sandbox-retry`), back to the card form
/// with the same options, as the real widget lets the payer try another card for the same invoice.
enum PaymentResultPage {
    /// A settled payment, approved or declined; `retry` is what the "Try again" form carries (no button without it).
    static func response(for transaction: Transaction, retry: WidgetOptions?) -> Response {
        let success = transaction.status != .declined
        return render(
            success: success,
            text: success ? "Оплата прошла успешно / Payment successful" : transaction.reason.cardHolderMessage,
            transactionID: .number(String(transaction.id)),
            reasonCode: .number(String(transaction.reason.code)),
            retry: success ? nil : retry
        )
    }

    /// A payment that could not even start, such as a widget opened with another terminal's Public ID.
    static func response(for error: RequestError) -> Response {
        render(success: false, text: error.message, transactionID: .null, reasonCode: .null, retry: nil)
    }

    private static func render(success: Bool, text: String, transactionID: JSONValue, reasonCode: JSONValue, retry: WidgetOptions?) -> Response {
        let message = JSONValue.object([
            ("type", .string("sandbox-payment")), ("success", .bool(success)),
            ("transactionId", transactionID), ("reasonCode", reasonCode), ("message", .string(text)),
        ])
        // A GET, so the card form opens exactly as the widget first opened it.
        let retryForm = retry.map { options in """
            <form method="get" action="/form">
            \(options.hiddenInputs)
            <button id="sandbox-retry" type="submit">Попробовать ещё раз / Try again</button>
            </form>
            """
        } ?? ""
        return HTMLPage.response(title: "Результат оплаты / Payment result (sandbox)", body: """
        <h1>Результат оплаты / Payment result</h1>
        <p id="sandbox-result" class="\(success ? "success" : "failure")">\(text.htmlEscaped)</p>
        \(retryForm)
        <script>window.parent.postMessage(\(message.serializedForScript), '*');</script>
        """)
    }
}
