import Foundation

/// A receiver of signed webhooks registered by another Movix service.
public struct WebhookEndpoint: Hashable, Sendable {
    public var id: UUID
    public var url: URL
    /// The types it receives; `["*"]` for all.
    public var eventTypes: [String]
    /// Signs every delivery (`WebhookSignature`); shown once, when the endpoint is registered.
    public var secret: String
    public var description: String?
    /// Since when every delivery failed, once that has lasted `DeliveryBackoff.failingAfter`.
    public var failingSince: Date?
    public var createdAt: Date

    public init(id: UUID, url: URL, eventTypes: [String], secret: String, description: String?, failingSince: Date?, createdAt: Date) {
        self.id = id
        self.url = url
        self.eventTypes = eventTypes
        self.secret = secret
        self.description = description
        self.failingSince = failingSince
        self.createdAt = createdAt
    }

    /// Subscribes to every type.
    public static let allTypes = "*"
}
