import Acquiring
import Billing
import BillingCore
import Foundation
import Hummingbird
import Mustache
import Storage

/// The viewer's account page: the subscription and its period, the renewal switch, payments with
/// their refunds, and cancelling (the quote, a confirmation, then the refund's status live). All
/// of it is personal, so unlike the payment page it shows and does nothing without the link's
/// account token (`PageToken`), which the payment page and the demo hand out. Its forms work
/// without JavaScript; the script only keeps a pending refund's status current.
struct AccountPageController {
    let services: BillingServices
    let templates: MustacheLibrary
    let links: PaymentLinks
    let securityHeaders: PageSecurityHeaders

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(":user_id", use: page)
        group.get(":user_id/mail", use: mail)
        group.get(":user_id/cancellation", use: cancellationStatus)
        group.post(":user_id/cancel", use: cancel)
        group.post(":user_id/resume", use: resume)
        group.post(":user_id/auto-renew", use: setAutoRenew)
        group.post(":user_id/card", use: changeCard)
    }

    @Sendable func page(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let token = request.uri.queryParameters.get("t")
        let userID = try authorizedUser(context, token: token)
        let now = services.clock.now()
        let standing = try await SubscriptionCancellation(services: services).standing(userID: userID)
        let (plans, invoices, refunds, hasCard) = try await services.database.read { connection in
            (try await services.plans.allPlansByID(on: connection), try await services.invoices.list(userID: userID, on: connection),
             Dictionary(grouping: try await services.refunds.list(userID: userID, on: connection), by: \.invoiceID),
             !(try await services.paymentMethods.cards(userID: userID, on: connection).isEmpty))
        }
        var model = AccountPageModel(
            standing: standing, plans: plans, invoices: invoices, refunds: refunds, hasCard: hasCard,
            unpaidRenewalURL: standing?.nextCharge?.unpaid.map { links.url(for: $0.id, language: language) }, language: language, now: now,
            note: request.uri.queryParameters.get("note").flatMap(AccountPageModel.Note.init), pageToken: token ?? "", userId: userID.lowercased,
            statusURL: "\(links.publicURL)/account/\(userID.lowercased)/cancellation?t=\(token ?? "")", nonce: securityHeaders.nonce()
        )
        model.mail = try await MailPreview(services: services, securityHeaders: securityHeaders)
            .link(userID: userID, url: "\(links.publicURL)/account/\(userID.lowercased)/mail?t=\(token ?? "")")
        guard let html = templates.render(model, withTemplate: "account") else { throw Problem(.internalServerError, type: "internal", title: "Internal error", detail: "The account page template is missing.") }
        return securityHeaders.response(html: html, nonce: model.nonce)
    }

    /// The last email to the viewer, for the holder of a current account link.
    @Sendable func mail(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let userID = try authorizedUser(context, token: request.uri.queryParameters.get("t"))
        return try await MailPreview(services: services, securityHeaders: securityHeaders).response(userID: userID)
    }

    /// The cancellation's live state, which the page polls while a refund is on its way.
    @Sendable func cancellationStatus(_ request: Request, context: BillingRequestContext) async throws -> CancellationBody {
        let userID = try authorizedUser(context, token: request.uri.queryParameters.get("t"))
        guard let standing = try await SubscriptionCancellation(services: services).standing(userID: userID) else { throw BillingError.noSubscription }
        return try CancellationBody.required(standing, now: services.clock.now())
    }

    @Sendable func cancel(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let (userID, form) = try await authorizedForm(request, context)
        guard form["confirm"] == "yes" else { throw Problem.invalid("confirm must be yes.") }
        let expected = try form["expected_refund"].map { text in
            guard let amount = Int64(text), amount >= 0 else { throw Problem.invalid("expected_refund must be a whole number of minor units.") }
            return amount
        }
        let key = try form["request_id"].map(IdempotencyKey.validated)
        return try await act(userID, request, form) {
            _ = try await $0.cancel(userID: userID, expectedRefund: expected, idempotencyKey: key, actor: "user:\(userID.lowercased)")
        }
    }

    @Sendable func resume(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let (userID, form) = try await authorizedForm(request, context)
        return try await act(userID, request, form) { _ = try await $0.resume(userID: userID, actor: "user:\(userID.lowercased)") }
    }

    @Sendable func setAutoRenew(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let (userID, form) = try await authorizedForm(request, context)
        guard let enabled = form["enabled"].flatMap(Bool.init) else { throw Problem.invalid("enabled must be true or false.") }
        return try await act(userID, request, form) { _ = try await $0.setAutoRenew(userID: userID, enabled: enabled, actor: "user:\(userID.lowercased)") }
    }

    /// On to the payment page of a card check (or of the declined renewal the new card should
    /// pay instead), where the acquirer's form takes the new card.
    @Sendable func changeCard(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let (userID, form) = try await authorizedForm(request, context)
        let language = PageLanguage(request: request)
        do {
            let (invoice, _, _) = try await CardChange(services: services).start(userID: userID, actor: "user:\(userID.lowercased)")
            return .redirect(to: links.url(for: invoice.id, language: language), type: .normal)
        } catch BillingError.renewalUnpaid(let invoiceID) {
            return .redirect(to: links.url(for: invoiceID, language: language), type: .normal)
        } catch BillingError.subscriptionNotCancelable, BillingError.noSubscription, BillingError.paymentInProgress {
            return .redirect(to: links.accountURL(for: userID, language: language, expiringWith: form["page_token"]) + "&note=\(AccountPageModel.Note.refused.rawValue)", type: .normal)
        }
    }

    /// Runs a form's action and goes back to the page (so a reload does not post again), with a
    /// link that expires when the page's did: acting never extends it. An action the subscription
    /// no longer allows (it changed since the page was shown) comes back as a note on the page,
    /// which then shows where things stand (a changed quote among them, for the viewer to confirm
    /// again), instead of a problem document in the browser.
    private func act(_ userID: UUID, _ request: Request, _ form: [String: String], _ action: (SubscriptionCancellation) async throws -> Void) async throws -> Response {
        var note: AccountPageModel.Note?
        do {
            try await action(SubscriptionCancellation(services: services))
        } catch BillingError.quoteChanged {
            note = .quoteChanged
        } catch BillingError.cannotResume, BillingError.subscriptionNotCancelable, BillingError.noCardToRenew, BillingError.noSubscription, BillingError.refundInProgress {
            note = .refused
        }
        let url = links.accountURL(for: userID, language: PageLanguage(request: request), expiringWith: form["page_token"])
        return .redirect(to: url + (note.map { "&note=\($0.rawValue)" } ?? ""), type: .normal)
    }

    private func authorizedUser(_ context: BillingRequestContext, token: String?) throws -> UUID {
        let rawID = try context.parameters.require("user_id")
        // A malformed id is as forbidden as someone else's: nothing says which accounts exist.
        guard let userID = UUID(uuidString: rawID) else { throw PaymentLinks.linkExpired }
        try links.requireValid(token, for: .account(userID))
        return userID
    }

    private func authorizedForm(_ request: Request, _ context: BillingRequestContext) async throws -> (UUID, [String: String]) {
        let fields = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: context.maxUploadSize)))
        let form = Dictionary(fields, uniquingKeysWith: { first, _ in first })
        let rawID = try context.parameters.require("user_id")
        guard let userID = UUID(uuidString: rawID) else { throw PaymentLinks.linkExpired }
        try links.authorize(request, token: form["page_token"], for: .account(userID))
        return (userID, form)
    }
}
