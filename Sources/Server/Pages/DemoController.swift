import Acquiring
import Billing
import BillingCore
import Foundation
import Hummingbird
import Mustache
import Storage

/// A stand-in for the Movix web app in development: the demo user picks a plan and lands on the
/// payment page, so the whole purchase can be tried in a browser without an auth service.
struct DemoController {
    let services: BillingServices
    let templates: MustacheLibrary
    let links: PaymentLinks
    let demoUserID: UUID
    let securityHeaders: PageSecurityHeaders

    /// Where the demo user's mail goes: `dev`'s mail sink catches it (README, "Email").
    static let demoEmail = "demo@movix.test"

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(use: page)
        group.post("checkout", use: checkout)
        group.get("mail", use: mail)
    }

    @Sendable func page(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let (plans, subscription) = try await services.database.read { connection in
            (try await services.plans.activePlans(on: connection), try await services.subscriptions.current(userID: demoUserID, on: connection))
        }
        // The demo user is fixed: once subscribed, say until when instead of offering a checkout
        // that can only answer "already subscribed".
        let now = services.clock.now()
        let until = subscription.flatMap { $0.grantsAccess(at: now) ? $0.currentPeriod?.end : nil }
        let model = DemoPageModel(
            lang: language.rawValue, otherLang: language.other.rawValue, texts: language.texts,
            plans: until == nil ? plans.map { DemoPlanModel(code: $0.code, title: language.planTitle(tier: $0.tier, months: $0.periodMonths), price: language.amount($0.price)) } : [],
            userId: demoUserID.lowercased,
            subscribedUntil: until.map { language.date($0) },
            accountUrl: links.accountURL(for: demoUserID, language: language),
            mail: try await MailPreview(services: services, securityHeaders: securityHeaders).link(userID: demoUserID, url: "\(links.publicURL)/demo/mail")
        )
        guard let html = templates.render(model, withTemplate: "demo") else { throw Problem(.internalServerError, type: "internal", title: "Internal error", detail: "The demo page template is missing.") }
        // It carries an account link with a token: the same headers as the pages it leads to.
        return securityHeaders.response(html: html, nonce: securityHeaders.nonce())
    }

    /// The last email to the demo user.
    @Sendable func mail(_ request: Request, context: BillingRequestContext) async throws -> Response {
        try await MailPreview(services: services, securityHeaders: securityHeaders).response(userID: demoUserID)
    }

    @Sendable func checkout(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let form = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: context.maxUploadSize)))
        guard let planCode = form.first(where: { $0.0 == "plan_code" })?.1 else { throw Problem.invalid("plan_code is required.") }
        do {
            let outcome = try await services.database.journaledTransaction { connection, journal in
                try await CheckoutService(services: services).checkout(userID: demoUserID, planIDOrCode: planCode, email: Self.demoEmail, language: Language(rawValue: language.rawValue), on: connection, journal: &journal)
            }
            return .redirect(to: links.url(for: outcome.invoice.id, language: language), type: .normal)
        } catch BillingError.alreadySubscribed {
            // Back to the plan page, which says until when the subscription runs.
            return .redirect(to: "\(links.publicURL)/demo?lang=\(language.rawValue)", type: .normal)
        }
    }
}

/// The values the `demo` template renders.
struct DemoPageModel {
    var lang: String
    var otherLang: String
    var texts: [String: String]
    var plans: [DemoPlanModel]
    var userId: String
    /// When the demo user's subscription runs out, if they have one.
    var subscribedUntil: String?
    /// The demo user's account page.
    var accountUrl: String
    /// The last email to the demo user.
    var mail: MailPreview.Link?
}

/// One plan on the demo page.
struct DemoPlanModel {
    var code: String
    var title: String
    var price: String
}
