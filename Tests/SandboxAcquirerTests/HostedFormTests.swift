import Foundation
import Testing

@Suite("Widget and hosted card form")
struct HostedFormTests {
    private let options = [
        ("publicId", SandboxHarness.publicID), ("amount", "299"), ("currency", "RUB"), ("description", "Movix Premium"),
        ("accountId", "user-5"), ("invoiceId", "inv-f"), ("kind", "charge"),
    ]

    @Test("widget.js defines cp.CloudPayments; /form shows the card inputs and may be framed")
    func widgetAndForm() async throws {
        try await SandboxHarness.run { sandbox in
            let script = try await sandbox.send("/widget.js", method: .GET, credentials: .none)
            #expect(script.body.contains("window.cp = { CloudPayments: CloudPayments }"))

            let form = try await sandbox.send("/form?" + FormBody.encode(options), method: .GET, credentials: .none)
            for id in ["card-number", "card-exp", "card-cvv", "card-holder", "card-submit"] {
                #expect(form.body.contains("id=\"\(id)\""))
            }
            #expect(form.body.contains("299.00 RUB"))
            #expect(form.body.contains("Movix Premium"))

            let wrongTerminal = try await sandbox.send("/form?publicId=pk_other&amount=1", method: .GET, credentials: .none)
            #expect(wrongTerminal.body.contains("id=\"sandbox-result\""))
            #expect(wrongTerminal.body.contains("\"success\":false"))
        }
    }

    @Test("submitting the form pays, with Check and Pay, and posts the result to the parent page; no token unasked")
    func frictionlessSubmit() async throws {
        try await SandboxHarness.run { sandbox in
            let result = try await submit(sandbox, card: "4000 0000 0000 3055")
            #expect(result.body.contains("id=\"sandbox-result\""))
            #expect(result.body.contains("\"type\":\"sandbox-payment\",\"success\":true"))
            let pay = try #require(try await sandbox.recorder.waitFor("pay").first)
            #expect(pay.fields["InvoiceId"] == "inv-f")
            #expect(pay.fields["Description"] == "Movix Premium")
            #expect(pay.fields["Token"] == "")
            #expect(try await sandbox.api("/payments/tokens/list", [:]).body == #"{"Success":true,"Message":null,"Model":[]}"#)
        }
    }

    @Test("a 3-D Secure card goes through the ACS page and back to the form's TermUrl")
    func threeDSSubmit() async throws {
        try await SandboxHarness.run { sandbox in
            let acsPage = try await submit(sandbox, card: "4242 4242 4242 4242")
            #expect(acsPage.body.contains("id=\"acs-confirm\""))
            let transactionID = try #require(acsPage.body.firstMatch(of: /action="\/acs\/(\d+)"/)?.1)

            let returning = try await sandbox.send(
                "/acs/\(transactionID)", body: "decision=confirm&TermUrl=%2Fform%2F3ds&MD=\(transactionID)",
                contentType: "application/x-www-form-urlencoded", credentials: .none
            )
            let paRes = try #require(returning.body.firstMatch(of: /name="PaRes" value="([^"]+)"/)?.1)
            #expect(returning.body.contains("action=\"/form/3ds\""))

            let result = try await sandbox.send(
                "/form/3ds", body: FormBody.encode([("MD", String(transactionID)), ("PaRes", String(paRes))]),
                contentType: "application/x-www-form-urlencoded", credentials: .none
            )
            #expect(result.body.contains("\"success\":true,\"transactionId\":\(transactionID)"))
        }
    }

    @Test("a mistyped card returns to the form with an error; a declined one shows the cardholder message")
    func mistakesAndDeclines() async throws {
        try await SandboxHarness.run { sandbox in
            let mistyped = try await submit(sandbox, card: "1234")
            #expect(mistyped.body.contains("id=\"card-error\""))
            let declined = try await submit(sandbox, card: "4000 0566 5566 5556")
            #expect(declined.body.contains("Недостаточно средств на карте"))
            #expect(declined.body.contains("\"success\":false"))
            #expect(declined.body.contains("\"reasonCode\":5051"))
        }
    }

    @Test("the form keeps the card when the widget passes saveCard: true or data.CloudPayments.recurrent, and only then",
          arguments: [
              ([("saveCard", "true")], true),
              ([("data", #"{"CloudPayments":{"recurrent":{"interval":"Month","period":1}}}"#)], true),
              ([("data", #"{"CloudPayments":{"CustomerReceipt":{"Items":[]}},"recurrent":true}"#)], false),
              ([("saveCard", "false")], false),
          ])
    func saveCardOptions(extra: [(String, String)], keeps: Bool) async throws {
        try await SandboxHarness.run { sandbox in
            let form = try await sandbox.send("/form?" + FormBody.encode(options + extra), method: .GET, credentials: .none)
            #expect(Dictionary(HTML.hiddenInputs(form.body), uniquingKeysWith: { $1 }) == Dictionary(options + extra, uniquingKeysWith: { $1 }))
            let result = try await submit(sandbox, card: "4000 0000 0000 3055", fields: HTML.hiddenInputs(form.body))
            #expect(result.body.contains("\"success\":true"))
            let pay = try #require(try await sandbox.recorder.waitFor("pay").first)
            #expect(pay.fields["Token"]?.hasPrefix("sbx_tok_") == keeps)
            #expect(pay.fields["Token"]?.isEmpty == !keeps)
        }
    }

    @Test("after a decline the form offers Try again with the same options; the retry is a new transaction with its own Check and Pay")
    func retryAfterDecline() async throws {
        try await SandboxHarness.run { sandbox in
            let widgetOptions = options + [("saveCard", "true"), ("data", #"{"plan":"premium_1m"}"#)]
            let declined = try await submit(sandbox, card: "4000 0566 5566 5556", fields: widgetOptions)
            #expect(declined.body.contains("\"success\":false"))
            #expect(declined.body.contains("id=\"sandbox-result\""))
            #expect(declined.body.contains("id=\"sandbox-retry\""))
            #expect(declined.body.contains("Попробовать ещё раз / Try again"))
            let retryForm = try #require(declined.body.firstMatch(of: /<form method="get" action="\/form">(.*?)<\/form>/.dotMatchesNewlines())?.1)
            let carried = HTML.hiddenInputs(String(retryForm))
            #expect(Dictionary(carried, uniquingKeysWith: { $1 }) == Dictionary(widgetOptions, uniquingKeysWith: { $1 }))

            // The button is a GET of the card form with those options, as the widget first opened it.
            let form = try await sandbox.send("/form?" + FormBody.encode(carried), method: .GET, credentials: .none)
            #expect(form.body.contains("id=\"card-number\""))
            #expect(form.body.contains("299.00 RUB"))
            let paid = try await submit(sandbox, card: "4000 0000 0000 3055", fields: HTML.hiddenInputs(form.body))
            #expect(paid.body.contains("\"success\":true"))
            #expect(!paid.body.contains("sandbox-retry"))

            let fail = try #require(try await sandbox.recorder.waitFor("fail").first)
            let pay = try #require(try await sandbox.recorder.waitFor("pay").first)
            let checks = await sandbox.recorder.all("check")
            #expect(checks.count == 2)
            #expect(checks.map { $0.fields["TransactionId"] } == [fail.fields["TransactionId"], pay.fields["TransactionId"]])
            #expect(fail.fields["TransactionId"] != pay.fields["TransactionId"])
            for notification in checks + [fail, pay] {
                #expect(notification.fields["InvoiceId"] == "inv-f")
                #expect(notification.fields["Data"] == #"{"plan":"premium_1m"}"#)
            }
            #expect(pay.fields["Token"]?.hasPrefix("sbx_tok_") == true)
        }
    }

    @Test("a decline after 3-D Secure also offers Try again: the options ride along in the return address")
    func retryAfterThreeDSDecline() async throws {
        try await SandboxHarness.run { sandbox in
            let acsPage = try await submit(sandbox, card: "4012 8888 8888 1881")
            let transactionID = try #require(acsPage.body.firstMatch(of: /action="\/acs\/(\d+)"/)?.1)
            let termURL = try #require(HTML.hiddenInputs(acsPage.body).first { $0.0 == "TermUrl" }?.1)
            #expect(termURL.hasPrefix("/form/3ds?"))

            let returning = try await sandbox.send(
                "/acs/\(transactionID)", body: FormBody.encode([("decision", "confirm"), ("TermUrl", termURL), ("MD", String(transactionID))]),
                contentType: "application/x-www-form-urlencoded", credentials: .none
            )
            let action = try #require(returning.body.firstMatch(of: /<form id="acs-return" method="post" action="([^"]+)"/)?.1)
            let back = HTML.hiddenInputs(returning.body)
            let result = try await sandbox.send(
                HTML.unescape(String(action)), body: FormBody.encode(back), contentType: "application/x-www-form-urlencoded", credentials: .none
            )
            #expect(result.body.contains("\"success\":false,\"transactionId\":\(transactionID),\"reasonCode\":5051"))
            let retryForm = try #require(result.body.firstMatch(of: /<form method="get" action="\/form">(.*?)<\/form>/.dotMatchesNewlines())?.1)
            #expect(Dictionary(HTML.hiddenInputs(String(retryForm)), uniquingKeysWith: { $1 }) == Dictionary(options, uniquingKeysWith: { $1 }))
        }
    }

    private func submit(_ sandbox: SandboxHarness, card: String, fields: [(String, String)]? = nil) async throws -> SandboxHarness.Exchange {
        let fields = (fields ?? options) + [("cardNumber", card), ("cardExp", "12/40"), ("cardCvv", "123"), ("cardHolder", "IVAN PETROV")]
        return try await sandbox.send(
            "/form", body: FormBody.encode(fields), contentType: "application/x-www-form-urlencoded", credentials: .none
        )
    }
}

/// Reading the sandbox's pages as a browser would submit them.
enum HTML {
    /// The hidden inputs of a page or page fragment, in order, values unescaped.
    static func hiddenInputs(_ html: String) -> [(String, String)] {
        html.matches(of: /<input type="hidden" name="([^"]*)" value="([^"]*)">/).map { (unescape(String($0.1)), unescape(String($0.2))) }
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }
}
