import Billing
import Foundation
import Hummingbird
import Storage

/// `GET /internal/v1/entitlements/{user_id}`: may this user watch? For other Movix services.
struct EntitlementsController {
    let services: BillingServices

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get("entitlements/:user_id", use: show)
    }

    @Sendable func show(_ request: Request, context: BillingRequestContext) async throws -> EntitlementBody {
        let rawID = try context.parameters.require("user_id")
        guard let userID = UUID(uuidString: rawID) else { throw Problem.invalid("user_id \"\(rawID)\" is not a UUID.") }
        return try await services.database.read { connection in
            let now = services.clock.now()
            guard let subscription = try await services.subscriptions.current(userID: userID, on: connection),
                  subscription.grantsAccess(at: now),
                  let plan = try await services.plans.plan(id: subscription.planID, on: connection)
            else { return EntitlementBody(userId: userID.lowercased, active: false, planCode: nil, until: nil) }
            return EntitlementBody(userId: userID.lowercased, active: true, planCode: plan.code, until: subscription.accessEnd)
        }
    }
}

extension EntitlementBody: ResponseEncodable {}
