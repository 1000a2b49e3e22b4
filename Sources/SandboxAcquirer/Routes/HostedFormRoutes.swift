import Hummingbird

/// The browser side of a payment: the widget script, the card form it frames, and the form's return from 3-D Secure.
struct HostedFormRoutes {
    let processor: PaymentProcessor
    let publicID: String

    /// Where the ACS page sends the cardholder back to; relative, as the form and the ACS share the sandbox's origin.
    /// The widget options ride along in its query, so a decline after 3-D Secure can still offer "Try again".
    private static let threeDSReturnPath = "/form/3ds"

    func register(on router: Router<SandboxRequestContext>) {
        router.get("widget.js") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "no-cache"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: WidgetScript.source))
            )
        }
        router.get("form") { request, _ in
            do throws(RequestError) {
                let options = try WidgetOptions(fields: FormFields(encoded: request.uri.query ?? ""), expectedPublicID: publicID)
                return CardFormPage.response(options: options)
            } catch {
                return PaymentResultPage.response(for: error)
            }
        }
        router.post("form") { request, context in
            var request = request
            let fields = FormFields(encoded: String(buffer: try await request.collectBody(upTo: context.maxUploadSize)))
            return await submit(fields, clientAddress: context.remoteAddress?.ipAddress)
        }
        router.post("form/3ds") { request, context in
            var request = request
            let fields = FormFields(encoded: String(buffer: try await request.collectBody(upTo: context.maxUploadSize)))
            // Absent when a page other than the sandbox's form chose this TermUrl; the result then has no "Try again".
            let options = try? WidgetOptions(fields: FormFields(encoded: request.uri.query ?? ""), expectedPublicID: publicID)
            do throws(RequestError) {
                guard let transactionID = fields["MD"].flatMap({ Int64($0) }) else { throw RequestError("MD is invalid") }
                let outcome = try await processor.completeAuthentication(transactionID: transactionID, paRes: fields["PaRes"] ?? "")
                return page(for: outcome, options: options)
            } catch {
                return PaymentResultPage.response(for: error)
            }
        }
    }

    /// Runs the same payment as `/payments/cards/charge|auth`, Check included; a mistyped card goes back to the form.
    /// Every submit is a new transaction, a retry after a decline included.
    private func submit(_ fields: FormFields, clientAddress: String?) async -> Response {
        let options: WidgetOptions
        do throws(RequestError) {
            options = try WidgetOptions(fields: fields, expectedPublicID: publicID)
        } catch {
            return PaymentResultPage.response(for: error)
        }
        let entered = CardFormPage.EnteredCard(
            number: fields["cardNumber"] ?? "", expiry: fields["cardExp"] ?? "", holderName: fields["cardHolder"] ?? ""
        )
        let card: CardDetails
        do throws(CardDetails.FormatError) {
            card = try CardDetails(number: entered.number, expiry: entered.expiry, cvv: fields["cardCvv"] ?? "", holderName: entered.holderName)
        } catch {
            return CardFormPage.response(options: options, entered: entered, error: error.message)
        }
        var details = options.details
        details.ipAddress = clientAddress
        let request = CardPaymentRequest(
            amount: options.amount, currency: options.currency, captureMode: options.captureMode, card: card, details: details,
            saveCard: options.saveCard
        )
        return page(for: await processor.pay(request), options: options)
    }

    private func page(for outcome: PaymentOutcome, options: WidgetOptions?) -> Response {
        switch outcome {
        case .approved(let transaction), .declined(let transaction):
            PaymentResultPage.response(for: transaction, retry: options)
        case .challenge(let transaction, _):
            ACSPage.challenge(
                for: transaction,
                termURL: Self.threeDSReturnPath + (options.map { "?" + $0.query } ?? ""),
                md: String(transaction.id)
            )
        }
    }
}
