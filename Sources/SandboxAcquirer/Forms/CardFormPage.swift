import Hummingbird

/// The card form the widget shows, in Russian and English, posting to `/form`.
enum CardFormPage {
    static func response(options: WidgetOptions, entered: EnteredCard = EnteredCard(), error: String? = nil) -> Response {
        let description = options.details.description.map { "<p>\($0.htmlEscaped)</p>" } ?? ""
        let errorLine = error.map { "<p class=\"error\" id=\"card-error\">\($0.htmlEscaped)</p>" } ?? ""
        return HTMLPage.response(title: "Оплата картой / Card payment (sandbox)", body: """
        <h1>Оплата картой / Card payment</h1>
        <p class="note">Тестовый режим: деньги не списываются / Sandbox: no money moves</p>
        <p class="amount" id="payment-amount">\(options.amount.decimalText) \(options.currency.htmlEscaped)</p>
        \(description)
        <form method="post" action="/form" autocomplete="off">
        \(options.hiddenInputs)
        <label for="card-number">Номер карты / Card number</label>
        <input id="card-number" name="cardNumber" inputmode="numeric" placeholder="4242 4242 4242 4242" value="\(entered.number.htmlEscaped)" required>
        <div class="row">
        <div><label for="card-exp">Срок / Expiry (MM/YY)</label>
        <input id="card-exp" name="cardExp" placeholder="12/30" value="\(entered.expiry.htmlEscaped)" required></div>
        <div><label for="card-cvv">CVV</label>
        <input id="card-cvv" name="cardCvv" inputmode="numeric" type="password" placeholder="123" required></div>
        </div>
        <label for="card-holder">Имя владельца / Cardholder name</label>
        <input id="card-holder" name="cardHolder" placeholder="CARD HOLDER" value="\(entered.holderName.htmlEscaped)">
        \(errorLine)
        <button id="card-submit" type="submit">Оплатить / Pay \(options.amount.decimalText) \(options.currency.htmlEscaped)</button>
        </form>
        """)
    }

    /// What to put back into the form after a mistake; never the CVV.
    struct EnteredCard {
        var number = ""
        var expiry = ""
        var holderName = ""
    }
}
