import Billing
import BillingCore
import Foundation
import HTTPTypes
import Hummingbird
import Storage

/// Internal routes for operators and other Movix services: refunds and the books' audit.
struct OperatorController {
    let services: BillingServices

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.post("invoices/:id/refunds", use: refund)
        group.get("audit", use: audit)
    }

    /// The refund request body: `amount` in minor units (all that is left when absent), `reason` in words.
    struct RefundRequest: Decodable {
        var amount: Int64?
        var reason: String
    }

    /// The audit's answer.
    struct AuditBody: ResponseEncodable {
        var balanced: Bool
        var breaches: [AuditBreach]
    }

    @Sendable func refund(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let rawID = try context.parameters.require("id")
        guard let invoiceID = UUID(uuidString: rawID) else { throw Problem.notFound("No invoice \(rawID).") }
        let input = try await decodeBody(RefundRequest.self, from: request, context: context)
        let reason = input.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        // Characters and bytes both: a letter with 20,000 combining accents is one character.
        guard (1...500).contains(reason.count), reason.utf8.count <= 2000 else { throw Problem.invalid("reason must be 1 to 500 characters (2000 bytes).") }
        if let amount = input.amount, amount <= 0 { throw Problem.invalid("amount must be a positive number of minor units.") }
        let key = try IdempotencyKey.of(request)
        let refund = try await RefundEngine(services: services).refundInvoice(invoiceID, amount: input.amount, comment: reason, actor: "operator", idempotencyKey: key)
        return try Response.json(RefundBody(refund), status: .created)
    }

    @Sendable func audit(_ request: Request, context: BillingRequestContext) async throws -> AuditBody {
        let breaches = try await Audit(database: services.database).run()
        return AuditBody(balanced: breaches.isEmpty, breaches: breaches)
    }
}

extension Response {
    /// A JSON response in the API's conventions.
    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(data: try APICoding.encoder.encode(value))))
    }
}
