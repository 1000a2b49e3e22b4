import Acquiring
import Billing
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

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(use: page)
        group.post("checkout", use: checkout)
    }

    @Sendable func page(_ request: Request, context: BillingRequestContext) async throws -> HTML {
        let language = PageLanguage(request: request)
        let plans = try await services.database.read { try await services.plans.activePlans(on: $0) }
        let model = DemoPageModel(
            lang: language.rawValue, otherLang: language.other.rawValue, texts: language.texts,
            plans: plans.map { DemoPlanModel(code: $0.code, title: language.planTitle(tier: $0.tier, months: $0.periodMonths), price: PaymentPageController.format($0.price, language)) },
            userId: demoUserID.lowercased
        )
        guard let html = templates.render(model, withTemplate: "demo") else { throw Problem(.internalServerError, type: "internal", title: "Internal error", detail: "The demo page template is missing.") }
        return HTML(html: html)
    }

    @Sendable func checkout(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let language = PageLanguage(request: request)
        let form = FormEncoding.decode(String(buffer: try await request.body.collect(upTo: context.maxUploadSize)))
        guard let planCode = form.first(where: { $0.0 == "plan_code" })?.1 else { throw Problem.invalid("plan_code is required.") }
        let outcome = try await services.database.journaledTransaction { connection, journal in
            try await CheckoutService(services: services).checkout(userID: demoUserID, planIDOrCode: planCode, email: nil, on: connection, journal: &journal)
        }
        return .redirect(to: links.url(for: outcome.invoice.id, language: language), type: .normal)
    }
}

/// The values the `demo` template renders.
struct DemoPageModel {
    var lang: String
    var otherLang: String
    var texts: [String: String]
    var plans: [DemoPlanModel]
    var userId: String
}

/// One plan on the demo page.
struct DemoPlanModel {
    var code: String
    var title: String
    var price: String
}
