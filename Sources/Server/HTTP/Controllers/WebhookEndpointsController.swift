import Billing
import BillingCore
import Delivery
import Foundation
import Hummingbird
import Storage

/// `/internal/v1/webhook-endpoints`: other Movix services register where events go, and see how
/// deliveries fare (docs/events.md).
struct WebhookEndpointsController {
    let services: BillingServices

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get(":id", use: show)
        group.delete(":id", use: delete)
        group.get(":id/deliveries", use: deliveries)
    }

    /// The registration request.
    struct CreateRequest: Decodable {
        var url: String
        var eventTypes: [String]
        var description: String?
    }

    /// An endpoint as the API shows it; `secret` only in the answer to its registration.
    struct EndpointBody: Encodable {
        var id: String
        var url: String
        var eventTypes: [String]
        @NullEncoded var description: String?
        /// `active`, or `failing` once deliveries have failed for three days.
        var status: String
        @NullEncoded var failingSince: Date?
        var createdAt: Date
        var secret: String?
        var pendingDeliveries: Int?
        var deliveredCount: Int?
        var lastAttempt: LastAttempt?

        /// The most recent delivery attempt.
        struct LastAttempt: Encodable {
            var at: Date
            @NullEncoded var statusCode: Int?
            @NullEncoded var error: String?
        }

        init(_ endpoint: WebhookEndpoint, secret: Bool = false, health: WebhookEndpointRepository.Health? = nil) {
            id = endpoint.id.lowercased
            url = endpoint.url.absoluteString
            eventTypes = endpoint.eventTypes
            description = endpoint.description
            status = endpoint.failingSince == nil ? "active" : "failing"
            failingSince = endpoint.failingSince
            createdAt = endpoint.createdAt
            self.secret = secret ? endpoint.secret : nil
            pendingDeliveries = health?.pending
            deliveredCount = health?.delivered
            lastAttempt = health?.lastAttemptAt.map { LastAttempt(at: $0, statusCode: health?.lastStatusCode, error: health?.lastError) }
        }
    }

    /// The list of endpoints.
    struct ListBody: Encodable {
        var endpoints: [EndpointBody]
    }

    @Sendable func create(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let input = try await decodeBody(CreateRequest.self, from: request, context: context)
        do {
            let endpoint = try await WebhookRegistration(services: services).register(url: input.url, eventTypes: input.eventTypes, description: input.description)
            return try Response.json(EndpointBody(endpoint, secret: true), status: .created)
        } catch let invalid as WebhookRegistration.Invalid {
            switch invalid {
            case .url(let detail), .eventTypes(let detail), .description(let detail): throw Problem.invalid(detail)
            }
        }
    }

    @Sendable func list(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let bodies = try await services.database.read { connection in
            var bodies: [EndpointBody] = []
            for endpoint in try await services.webhookEndpoints.list(on: connection) {
                bodies.append(EndpointBody(endpoint, health: try await services.webhookEndpoints.health(endpointID: endpoint.id, on: connection)))
            }
            return bodies
        }
        return try Response.json(ListBody(endpoints: bodies), status: .ok)
    }

    @Sendable func show(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let id = try endpointID(context)
        let body = try await services.database.read { connection -> EndpointBody? in
            guard let endpoint = try await services.webhookEndpoints.find(id: id, on: connection) else { return nil }
            return EndpointBody(endpoint, health: try await services.webhookEndpoints.health(endpointID: id, on: connection))
        }
        guard let body else { throw Problem.notFound("No webhook endpoint \(id.lowercased).") }
        return try Response.json(body, status: .ok)
    }

    @Sendable func delete(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let id = try endpointID(context)
        let deleted = try await services.database.read { try await services.webhookEndpoints.delete(id: id, at: services.clock.now(), on: $0) }
        guard deleted else { throw Problem.notFound("No webhook endpoint \(id.lowercased).") }
        return Response(status: .noContent)
    }

    /// Delivery attempts, newest first.
    struct DeliveriesBody: Encodable {
        var deliveries: [DeliveryBody]
    }

    /// One delivery attempt.
    struct DeliveryBody: Encodable {
        var eventId: String
        var attempt: Int
        @NullEncoded var statusCode: Int?
        @NullEncoded var error: String?
        var durationMs: Int
        var attemptedAt: Date
    }

    @Sendable func deliveries(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let id = try endpointID(context)
        let limit = try pageLimit(request)
        let rows = try await services.database.read { connection -> [WebhookMessageRepository.Delivery]? in
            guard try await services.webhookEndpoints.find(id: id, on: connection) != nil else { return nil }
            return try await services.webhookMessages.deliveries(endpointID: id, eventID: nil, limit: limit, on: connection)
        }
        guard let rows else { throw Problem.notFound("No webhook endpoint \(id.lowercased).") }
        return try Response.json(DeliveriesBody(deliveries: rows.map {
            DeliveryBody(eventId: $0.eventID.lowercased, attempt: $0.attempt, statusCode: $0.statusCode, error: $0.error, durationMs: $0.durationMilliseconds, attemptedAt: $0.attemptedAt)
        }), status: .ok)
    }

    private func endpointID(_ context: BillingRequestContext) throws -> UUID {
        let raw = try context.parameters.require("id")
        guard let id = UUID(uuidString: raw) else { throw Problem.notFound("No webhook endpoint \(Problem.quoted(raw)).") }
        return id
    }
}

/// `?limit=` of a list: 1 to 1000, 100 when absent.
func pageLimit(_ request: Request) throws -> Int {
    guard let raw = request.uri.queryParameters["limit"] else { return 100 }
    guard let limit = Int(String(raw)), (1...1000).contains(limit) else { throw Problem.invalid("limit must be a whole number from 1 to 1000.") }
    return limit
}
