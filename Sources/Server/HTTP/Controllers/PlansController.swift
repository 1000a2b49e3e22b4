import Billing
import Hummingbird
import Storage

/// `GET /v1/plans`: what is on sale.
struct PlansController {
    let services: BillingServices

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(use: list)
    }

    /// The plan list body.
    struct PlanList: ResponseEncodable {
        var plans: [PlanBody]
    }

    @Sendable func list(_ request: Request, context: BillingRequestContext) async throws -> PlanList {
        let plans = try await services.database.read { try await services.plans.activePlans(on: $0) }
        return PlanList(plans: plans.map(PlanBody.init))
    }
}
