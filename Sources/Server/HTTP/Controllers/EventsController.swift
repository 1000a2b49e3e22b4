import Billing
import BillingCore
import Delivery
import Foundation
import Hummingbird
import NIOCore
import Storage

/// `/internal/v1/events`: a consumer that was down pages through what it missed, in publication
/// order; any event can be delivered again (docs/events.md).
struct EventsController {
    let services: BillingServices

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.get(use: list)
        group.get(":id", use: show)
        group.post(":id/replay", use: replay)
    }

    @Sendable func list(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let limit = try pageLimit(request)
        var after: UUID?
        if let raw = request.uri.queryParameters["after"] {
            guard let id = UUID(uuidString: String(raw)) else { throw Problem.invalid("after must be an event id (a UUID).") }
            after = id
        }
        var types: [EventType] = []
        for raw in request.uri.queryParameters.getAll("type") {
            guard let type = EventType(rawValue: String(raw)) else { throw Problem.invalid("type \(Problem.quoted(String(raw))) is not an event type.") }
            types.append(type)
        }
        // One more than asked tells whether there is a next page.
        let page = try await services.database.read { try await services.outbox.list(after: after, types: types, limit: limit + 1, on: $0) }
        guard let page else { throw Problem.notFound("No published event \(after?.lowercased ?? "").") }
        return json(EventEnvelope.page(Array(page.prefix(limit)), after: after, hasMore: page.count > limit), status: .ok)
    }

    @Sendable func show(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let id = try eventID(context)
        guard let event = try await services.database.read({ try await services.outbox.find(id: id, on: $0) }) else {
            throw Problem.notFound("No event \(id.lowercased).")
        }
        return json(EventEnvelope.json(event), status: .ok)
    }

    /// The replay request: one endpoint, or every endpoint that receives the event's type.
    struct ReplayRequest: Decodable {
        var endpointId: String?
    }

    /// How many deliveries the replay queued.
    struct ReplayBody: Encodable {
        var queued: Int
    }

    @Sendable func replay(_ request: Request, context: BillingRequestContext) async throws -> Response {
        let id = try eventID(context)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        var endpointID: UUID?
        if body.readableBytes > 0, let raw = try decodeBody(ReplayRequest.self, from: body).endpointId {
            guard let parsed = UUID(uuidString: raw) else { throw Problem.invalid("endpoint_id must be a UUID.") }
            guard try await services.database.read({ try await services.webhookEndpoints.find(id: parsed, on: $0) }) != nil else {
                throw Problem.notFound("No webhook endpoint \(parsed.lowercased).")
            }
            endpointID = parsed
        }
        guard let queued = try await WebhookRegistration(services: services).replay(eventID: id, endpointID: endpointID) else {
            throw Problem.notFound("No event \(id.lowercased).")
        }
        return try Response.json(ReplayBody(queued: queued), status: .accepted)
    }

    private func eventID(_ context: BillingRequestContext) throws -> UUID {
        let raw = try context.parameters.require("id")
        guard let id = UUID(uuidString: raw) else { throw Problem.notFound("No event \(Problem.quoted(raw)).") }
        return id
    }

    private func json(_ text: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
