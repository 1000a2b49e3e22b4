import Billing
import BillingCore
import Crypto
import Foundation
import Storage

/// Registers, lists and removes webhook endpoints, and replays events to them: the use cases
/// behind `/internal/v1/webhook-endpoints` and `/internal/v1/events/{id}/replay`.
public struct WebhookRegistration: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    /// Why an endpoint cannot be registered as asked.
    public enum Invalid: Error, Equatable {
        case url(String)
        case eventTypes(String)
        case description(String)
    }

    /// Registers an endpoint for `eventTypes` (`*` for all) and returns it with its new secret.
    public func register(url text: String, eventTypes: [String], description: String?) async throws -> WebhookEndpoint {
        guard text.utf8.count <= 2000, let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { throw Invalid.url("url must be an absolute http or https URL of at most 2000 bytes.") }
        guard WebhookSender.isDeliverable(url) else { throw Invalid.url("url must have a port from 1 to 65535.") }
        // The signature proves who sends; credentials in the URL would only end up in logs.
        guard url.user == nil, url.password == nil else { throw Invalid.url("url must not carry a user or password; verify the Movix-Signature header instead.") }
        guard eventTypes.count <= 100 else { throw Invalid.eventTypes("event_types must name at most 100 event types.") }
        var types: [String] = []
        for type in eventTypes where !types.contains(type) {
            guard type == WebhookEndpoint.allTypes || EventType(rawValue: type) != nil else {
                throw Invalid.eventTypes("event type \"\(type.prefix(64))\" is not one of: *, \(EventType.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            types.append(type)
        }
        guard !types.isEmpty else { throw Invalid.eventTypes("event_types must name at least one event type, or \"*\" for all.") }
        if let description, description.count > 500 || description.utf8.count > 2000 {
            throw Invalid.description("description must be at most 500 characters.")
        }
        let endpoint = WebhookEndpoint(
            id: UUID(), url: url, eventTypes: types, secret: Self.newSecret(), description: description,
            failingSince: nil, createdAt: services.clock.now()
        )
        try await services.database.read { try await services.webhookEndpoints.insert(endpoint, on: $0) }
        return endpoint
    }

    /// Queues the event again, for every endpoint that receives its type or only `endpointID`;
    /// returns how many deliveries were queued, nil when there is no such event.
    public func replay(eventID: UUID, endpointID: UUID?) async throws -> Int? {
        try await services.database.transaction { connection in
            guard let event = try await services.outbox.find(id: eventID, on: connection) else { return nil }
            let queued = try await services.outbox.replay(event, endpointID: endpointID, at: services.clock.now(), on: connection)
            if queued > 0 { try await services.outbox.announce(on: connection) }
            return queued
        }
    }

    /// `whsec_` and 32 random bytes in hex.
    static func newSecret() -> String {
        "whsec_" + SymmetricKey(size: .bits256).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() }
    }
}
