import Acquiring
import Billing
import BillingCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import PostgresNIO
import Storage

/// The payment page the Movix web app sends a viewer to: plan, amount, card form, live status.
/// The invoice id in the URL lets anyone holding the link see the page and pay with a new card at
/// the acquirer, so the page shows nothing personal (no email, no user id, cards by brand and last
/// four only). Charging a saved card or starting a new invoice also needs the link's page token
/// (`PageToken`), and POSTs must come from our own origin.
struct PaymentPageController {
    let services: BillingServices
    let templates: MustacheLibrary
    let links: PaymentLinks
    let watchURL: String
    let securityHeaders: PageSecurityHeaders

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(":id", use: page)
        group.get(":id/status", use: status)
        group.post(":id/saved-card", use: payWithSavedCard)
        group.post(":id/retry", use: retry)
        group.get(":id/account", use: account)
    }

    /// The live status the page polls.
    struct StatusBody: ResponseEncodable {
        var status: String
        @NullEncoded var failure: FailureBody?
    }

    @Sendable func page(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let (invoice, plan, cards, refunds) = try await services.database.read { connection -> (Invoice, Plan?, [SavedCard], [Refund]) in
            let invoice = try await loadInvoice(context, on: connection)
            let plan = try await services.plans.plan(id: invoice.planID, on: connection)
            let cards = try await services.paymentMethods.cards(userID: invoice.userID, on: connection)
            return (invoice, plan, cards, try await services.refunds.list(invoiceID: invoice.id, on: connection))
        }
        let pageToken = request.uri.queryParameters.get("t")
        let mayAct = links.tokens.isValid(pageToken, for: .invoice(invoice.id), now: services.clock.now())
        let display = PageStatus(invoice, refunds: refunds)
        let checksCard = invoice.kind == .cardCheck
        // A pending invoice stays payable: an attempt left at 3-D Secure must not block another
        // card, and should both succeed, the second is refunded automatically.
        let (_, browser) = try services.browserCheckout(for: invoice, description: plan?.title ?? "Movix", includeEmail: false)
        let config = PageConfig(
            invoiceId: invoice.id.lowercased, status: display.rawValue, payable: invoice.status.isOpen,
            statusUrl: "\(links.publicURL)/pay/\(invoice.id.lowercased)/status?lang=\(language.rawValue)",
            savedCardUrl: "\(links.publicURL)/pay/\(invoice.id.lowercased)/saved-card",
            pageToken: mayAct ? pageToken : nil,
            widget: browser.options, texts: language.texts, refundFollows: checksCard
        )
        let model = PaymentPageModel(
            lang: language.rawValue, otherLang: language.other.rawValue, texts: language.texts,
            planTitle: checksCard ? language.texts["cardCheckTitle"] ?? "" : plan.map { language.planTitle(tier: $0.tier, months: $0.periodMonths) } ?? "",
            amount: language.amount(invoice.amount), note: checksCard ? language.texts["cardCheckNote"] ?? "" : "",
            status: display.rawValue, statusText: language.texts[display.rawValue] ?? display.rawValue,
            failureMessage: invoice.failure.map(language.declineMessage) ?? "", isPayable: invoice.status.isOpen,
            isPaid: invoice.status == .paid, isWatchable: display == .paid && !checksCard, isFailed: display.showsFailure, canRetry: display == .canceled && mayAct && invoice.kind == .initial,
            // A card check is for a new card: the saved ones are not offered.
            savedCards: mayAct && !checksCard ? cards.map { SavedCardModel(id: $0.id.lowercased, label: $0.label) } : [],
            hasSavedCards: mayAct && !checksCard && !cards.isEmpty, widgetScriptUrl: browser.scriptURL,
            configJSON: try scriptSafeJSON(config), watchUrl: watchURL,
            accountUrl: mayAct ? "\(links.publicURL)/pay/\(invoice.id.lowercased)/account?t=\(pageToken ?? "")&lang=\(language.rawValue)" : nil,
            invoiceId: invoice.id.lowercased,
            pageToken: mayAct ? pageToken ?? "" : "", nonce: securityHeaders.nonce()
        )
        guard let html = templates.render(model, withTemplate: "pay") else { throw Problem(.internalServerError, type: "internal", title: "Internal error", detail: "The payment page template is missing.") }
        return securityHeaders.response(html: html, nonce: model.nonce)
    }

    @Sendable func status(_ request: Request, context: BillingRequestContext) async throws -> StatusBody {
        let (invoice, refunds) = try await services.database.read { connection -> (Invoice, [Refund]) in
            let invoice = try await loadInvoice(context, on: connection)
            return (invoice, try await services.refunds.list(invoiceID: invoice.id, on: connection))
        }
        let language = PageLanguage(request: request)
        let display = PageStatus(invoice, refunds: refunds)
        return StatusBody(status: display.rawValue, failure: display.showsFailure ? invoice.failure.map { FailureBody(code: $0.code, message: language.declineMessage($0)) } : nil)
    }

    /// The saved-card charge request body.
    struct SavedCardRequest: Decodable {
        var paymentMethodId: String
    }

    /// Charges a card the viewer saved earlier and answers with the status it led to.
    @Sendable func payWithSavedCard(_ request: Request, context: BillingRequestContext) async throws -> StatusBody {
        let invoiceID = try authorizeAction(request, context, token: request.headers[HTTPField.Name("X-Page-Token")!])
        let input = try await decodeBody(SavedCardRequest.self, from: request, context: context)
        guard let methodID = UUID(uuidString: input.paymentMethodId) else { throw Problem.invalid("payment_method_id is not a UUID.") }
        try await SavedCardPayment(services: services).pay(invoiceID: invoiceID, paymentMethodID: methodID)
        return try await status(request, context: context)
    }

    /// A new invoice for the same plan, for a page whose invoice was canceled (replaced or expired).
    @Sendable func retry(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let form = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: context.maxUploadSize)))
        _ = try authorizeAction(request, context, token: form.first { $0.0 == "page_token" }?.1)
        let outcome = try await services.database.journaledTransaction { connection, journal -> CheckoutService.Outcome in
            let invoice = try await loadInvoice(context, on: connection)
            return try await CheckoutService(services: services).checkout(userID: invoice.userID, planIDOrCode: invoice.planID.uuidString, email: invoice.email, on: connection, journal: &journal)
        }
        return .redirect(to: links.url(for: outcome.invoice.id, language: language), type: .normal)
    }

    /// On to the payer's account page, for the holder of a current page token: the page itself
    /// names no user, so the account link goes through here.
    @Sendable func account(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let invoice = try await services.database.read { connection -> Invoice in try await loadInvoice(context, on: connection) }
        let token = request.uri.queryParameters.get("t")
        try links.requireValid(token, for: .invoice(invoice.id))
        return .redirect(to: links.accountURL(for: invoice.userID, language: PageLanguage(request: request), expiringWith: token), type: .normal)
    }

    /// The invoice a POST acts on, once its page token and origin check out; 403 otherwise.
    private func authorizeAction(_ request: Request, _ context: BillingRequestContext, token: String?) throws -> UUID {
        let rawID = try context.parameters.require("id")
        guard let invoiceID = UUID(uuidString: rawID) else { throw Problem.notFound("No invoice \(rawID).") }
        try links.authorize(request, token: token, for: .invoice(invoiceID))
        return invoiceID
    }

    private func loadInvoice(_ context: BillingRequestContext, on connection: PostgresConnection) async throws -> Invoice {
        let rawID = try context.parameters.require("id")
        guard let id = UUID(uuidString: rawID), let invoice = try await services.invoices.find(id: id, on: connection) else {
            throw Problem.notFound("No invoice \(rawID).")
        }
        return invoice
    }
}

/// What the page shows: the invoice's status, except that an open invoice whose last attempt was
/// declined shows `declined` (with the reason and the form to try again), and a paid one whose
/// money all went back (a cancellation in the first hour) shows `refunded`, with no "Watch movies".
enum PageStatus: String {
    case created, pending, declined, paid, refunded, failed, canceled

    init(_ invoice: Invoice, refunds: [Refund]) {
        switch invoice.status {
        case .created: self = invoice.failure == nil ? .created : .declined
        case .pending: self = .pending
        case .paid:
            self = refunds.refundedAmount >= invoice.amount.amount ? .refunded : .paid
        case .failed: self = .failed
        case .canceled: self = .canceled
        }
    }

    var showsFailure: Bool { self == .declined || self == .failed || self == .canceled }
}

/// What the payment page's script needs, embedded in the page as JSON.
struct PageConfig: Encodable {
    var invoiceId: String
    var status: String
    var payable: Bool
    var statusUrl: String
    var savedCardUrl: String
    /// Present only when the link's token is valid: then the page may charge saved cards.
    var pageToken: String?
    var widget: [String: WidgetValue]
    var texts: [String: String]
    /// A card check's ruble comes back right after it is paid: the page waits for the refund.
    var refundFollows: Bool
}

/// The values the `pay` template renders.
struct PaymentPageModel {
    var lang: String
    var otherLang: String
    var texts: [String: String]
    var planTitle: String
    var amount: String
    /// What the payment is for when it buys no period (a card check); empty otherwise.
    var note: String
    var status: String
    var statusText: String
    var failureMessage: String
    var isPayable: Bool
    var isPaid: Bool
    /// Paid and not refunded: the way to the movies is open.
    var isWatchable: Bool
    var isFailed: Bool
    var canRetry: Bool
    var savedCards: [SavedCardModel]
    var hasSavedCards: Bool
    var widgetScriptUrl: String
    var configJSON: String
    var watchUrl: String
    /// On to the viewer's account page, offered once paid; only with a valid page token, since the
    /// account is personal and the payment link may have been passed on.
    var accountUrl: String?
    var invoiceId: String
    var pageToken: String
    /// The CSP nonce of the page's own script.
    var nonce: String
}

/// A saved card on the payment page.
struct SavedCardModel {
    var id: String
    var label: String
}

