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

    @Test("submitting the form pays, with Check and Pay, and posts the result to the parent page")
    func frictionlessSubmit() async throws {
        try await SandboxHarness.run { sandbox in
            let result = try await submit(sandbox, card: "4000 0000 0000 3055")
            #expect(result.body.contains("id=\"sandbox-result\""))
            #expect(result.body.contains("\"type\":\"sandbox-payment\",\"success\":true"))
            let pay = try #require(try await sandbox.recorder.waitFor("pay").first)
            #expect(pay.fields["InvoiceId"] == "inv-f")
            #expect(pay.fields["Description"] == "Movix Premium")
            #expect(pay.fields["Token"]?.hasPrefix("sbx_tok_") == true)
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

    private func submit(_ sandbox: SandboxHarness, card: String) async throws -> SandboxHarness.Exchange {
        let fields = options + [("cardNumber", card), ("cardExp", "12/40"), ("cardCvv", "123"), ("cardHolder", "IVAN PETROV")]
        return try await sandbox.send(
            "/form", body: FormBody.encode(fields), contentType: "application/x-www-form-urlencoded", credentials: .none
        )
    }
}
