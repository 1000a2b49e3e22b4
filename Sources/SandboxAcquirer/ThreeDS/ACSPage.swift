import Hummingbird

/// The sandbox's stand-in for the issuer's 3-D Secure page (the ACS).
enum ACSPage {
    /// The challenge: confirm or reject, posted back to the ACS with the merchant's `TermUrl` and `MD` carried along.
    static func challenge(for transaction: Transaction, termURL: String?, md: String?) -> Response {
        let carried = [("TermUrl", termURL), ("MD", md)]
            .compactMap { name, value in value.map { HTMLPage.hiddenInput(name: name, value: $0) } }
            .joined()
        return HTMLPage.response(title: "3-D Secure (sandbox)", body: """
        <h1>3-D Secure (sandbox)</h1>
        <p class="note">Подтвердите оплату, как в приложении банка / Confirm the payment as your bank app would ask</p>
        <p class="amount">\(transaction.amount.decimalText.htmlEscaped) \(transaction.currency.htmlEscaped)</p>
        <p>\(transaction.card.brand.rawValue.htmlEscaped) •••• \(transaction.card.lastFour.htmlEscaped)</p>
        <form method="post" action="/acs/\(transaction.id)">
        \(carried)
        <button id="acs-confirm" type="submit" name="decision" value="confirm">Подтвердить / Confirm</button>
        <button id="acs-reject" class="secondary" type="submit" name="decision" value="reject">Отклонить / Reject</button>
        </form>
        """)
    }

    /// For a transaction that is not waiting for 3-D Secure (unknown, or already decided).
    static func unknownSession() -> Response {
        HTMLPage.response(
            title: "3-D Secure (sandbox)",
            body: "<h1>3-D Secure (sandbox)</h1><p>Нет такой проверки / No 3-D Secure session for this payment</p>",
            status: .notFound
        )
    }

    /// After the decision: posts `MD` and `PaRes` to the merchant's `TermUrl` as an issuer's ACS does, or, with no
    /// `TermUrl`, shows the `PaRes` so a person can pass it to `post3ds` by hand.
    static func decision(_ result: AuthenticationResult, termURL: String?, md: String) -> Response {
        guard let termURL else {
            return HTMLPage.response(title: "3-D Secure (sandbox)", body: """
            <h1>3-D Secure (sandbox)</h1>
            <p>PaRes:</p>
            <p><code id="acs-pares">\(result.paRes.htmlEscaped)</code></p>
            """)
        }
        return HTMLPage.response(title: "3-D Secure (sandbox)", body: """
        <h1>3-D Secure (sandbox)</h1>
        <p class="note">Возвращаемся в магазин… / Returning to the shop…</p>
        <form id="acs-return" method="post" action="\(termURL.htmlEscaped)">
        \(HTMLPage.hiddenInput(name: "MD", value: md))
        \(HTMLPage.hiddenInput(name: "PaRes", value: result.paRes))
        <noscript><button type="submit">Продолжить / Continue</button></noscript>
        </form>
        <script>document.getElementById('acs-return').submit();</script>
        """)
    }
}
