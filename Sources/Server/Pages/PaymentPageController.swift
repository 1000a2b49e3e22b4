import Acquiring
import BillingCore
import Foundation
import Hummingbird
import Mustache
import PostgresNIO
import Storage

/// The payment page the Movix web app sends a viewer to: plan, amount, card form, live status.
/// The invoice id in the URL is the capability: it is random, and the page shows nothing personal.
struct PaymentPageController {
    let services: BillingServices
    let templates: MustacheLibrary
    let publicURL: String
    let watchURL: String

    static func url(for invoiceID: UUID, publicURL: String) -> String {
        "\(publicURL)/pay/\(invoiceID.lowercased)"
    }

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(":id", use: page)
        group.get(":id/status", use: status)
        group.post(":id/saved-card", use: payWithSavedCard)
        group.post(":id/retry", use: retry)
    }

    /// The live status the page polls.
    struct StatusBody: ResponseEncodable {
        var status: String
        @NullEncoded var failure: FailureBody?
    }

    @Sendable func page(_ request: Request, context: BillingRequestContext) async throws -> HTML {
        let language = PageLanguage(request: request)
        var (invoice, plan, cards) = try await services.database.read { connection -> (Invoice, Plan?, [SavedCard]) in
            let invoice = try await loadInvoice(request, context, on: connection)
            let plan = try await services.plans.plan(id: invoice.planID, on: connection)
            let cards = try await services.paymentMethods.cards(userID: invoice.userID, on: connection)
            return (invoice, plan, cards)
        }
        // A pending invoice whose attempt went nowhere (3-D Secure abandoned) may be paid again;
        // one the acquirer settled meanwhile shows its outcome.
        let finding = await PaymentReconciler(services: services).reconcile(invoice)
        if finding == .settled {
            invoice = try await services.database.read { try await services.invoices.find(id: invoice.id, on: $0) } ?? invoice
        }
        let payable = invoice.status == .created || finding == .noCompletedPayment
        let (_, browser) = try services.browserCheckout(for: invoice, description: plan?.title ?? "Movix")
        let config = PageConfig(
            invoiceId: invoice.id.lowercased, status: invoice.status.rawValue, payable: payable,
            statusUrl: "\(publicURL)/pay/\(invoice.id.lowercased)/status?lang=\(language.rawValue)",
            savedCardUrl: "\(publicURL)/pay/\(invoice.id.lowercased)/saved-card",
            widget: browser.options, texts: language.texts
        )
        let model = PaymentPageModel(
            lang: language.rawValue, otherLang: language.other.rawValue, texts: language.texts,
            planTitle: plan.map { language.planTitle(tier: $0.tier, months: $0.periodMonths) } ?? "", amount: Self.format(invoice.amount, language),
            status: invoice.status.rawValue, statusText: language.texts[invoice.status.rawValue] ?? invoice.status.rawValue,
            failureMessage: invoice.failure.map(language.declineMessage) ?? "", isPayable: payable,
            isPaid: invoice.status == .paid, isFailed: invoice.status == .failed || invoice.status == .canceled,
            savedCards: cards.map { SavedCardModel(id: $0.id.lowercased, label: "\($0.brand ?? "") \($0.mask)") },
            hasSavedCards: !cards.isEmpty, widgetScriptUrl: browser.scriptURL,
            configJSON: try PageConfig.scriptSafeJSON(config), watchUrl: watchURL, invoiceId: invoice.id.lowercased
        )
        guard let html = templates.render(model, withTemplate: "pay") else { throw Problem(.internalServerError, type: "internal", title: "Internal error", detail: "The payment page template is missing.") }
        return HTML(html: html)
    }

    @Sendable func status(_ request: Request, context: BillingRequestContext) async throws -> StatusBody {
        let invoice = try await services.database.read { connection -> Invoice in try await loadInvoice(request, context, on: connection) }
        let language = PageLanguage(request: request)
        return StatusBody(status: invoice.status.rawValue, failure: invoice.failure.map { FailureBody(code: $0.code, message: language.declineMessage($0)) })
    }

    /// The saved-card charge request body.
    struct SavedCardRequest: Decodable {
        var paymentMethodId: String
    }

    /// Charges a card the viewer saved earlier and answers with the status it led to.
    @Sendable func payWithSavedCard(_ request: Request, context: BillingRequestContext) async throws -> StatusBody {
        let input = try decodeBody(SavedCardRequest.self, from: try await request.body.collect(upTo: context.maxUploadSize))
        guard let methodID = UUID(uuidString: input.paymentMethodId) else { throw Problem.invalid("payment_method_id is not a UUID.") }
        let rawID = try context.parameters.require("id")
        guard let invoiceID = UUID(uuidString: rawID) else { throw Problem.notFound("No invoice \(rawID).") }
        try await SavedCardPayment(services: services).pay(invoiceID: invoiceID, paymentMethodID: methodID)
        return try await status(request, context: context)
    }

    /// Starts a new attempt after a decline: a fresh invoice for the same plan.
    @Sendable func retry(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let outcome = try await services.database.journaledTransaction { connection, journal -> CheckoutService.Outcome in
            let invoice = try await loadInvoice(request, context, on: connection)
            let owner = AuthenticatedUser(id: invoice.userID, email: invoice.email)
            return try await CheckoutService(services: services).checkout(user: owner, planIDOrCode: invoice.planID.uuidString, email: invoice.email, on: connection, journal: &journal)
        }
        return .redirect(to: "\(publicURL)/pay/\(outcome.invoice.id.lowercased)?lang=\(language.rawValue)", type: .normal)
    }

    private func loadInvoice(_ request: Request, _ context: BillingRequestContext, on connection: PostgresConnection) async throws -> Invoice {
        let rawID = try context.parameters.require("id")
        guard let id = UUID(uuidString: rawID), let invoice = try await services.invoices.find(id: id, on: connection) else {
            throw Problem.notFound("No invoice \(rawID).")
        }
        return invoice
    }

    /// "299,00 ₽" in Russian, "RUB 299.00" in English.
    static func format(_ money: Money, _ language: PageLanguage) -> String {
        switch language {
        case .ru: money.decimalString.replacingOccurrences(of: ".", with: ",") + (money.currency == .rub ? " ₽" : " \(money.currency)")
        case .en: "\(money.currency) \(money.decimalString)"
        }
    }
}

/// What the payment page's script needs, embedded in the page as JSON.
struct PageConfig: Encodable {
    var invoiceId: String
    var status: String
    var payable: Bool
    var statusUrl: String
    var savedCardUrl: String
    var widget: [String: WidgetValue]
    var texts: [String: String]

    /// JSON that cannot close the `<script>` element it sits in.
    static func scriptSafeJSON(_ config: PageConfig) throws -> String {
        let json = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        return json.replacingOccurrences(of: "<", with: "\\u003c")
    }
}

/// The values the `pay` template renders.
struct PaymentPageModel {
    var lang: String
    var otherLang: String
    var texts: [String: String]
    var planTitle: String
    var amount: String
    var status: String
    var statusText: String
    var failureMessage: String
    var isPayable: Bool
    var isPaid: Bool
    var isFailed: Bool
    var savedCards: [SavedCardModel]
    var hasSavedCards: Bool
    var widgetScriptUrl: String
    var configJSON: String
    var watchUrl: String
    var invoiceId: String
}

/// A saved card on the payment page.
struct SavedCardModel {
    var id: String
    var label: String
}

/// An HTML page response.
struct HTML: ResponseGenerator {
    let html: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: html)))
    }
}
