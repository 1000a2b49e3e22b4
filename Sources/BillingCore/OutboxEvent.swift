import Foundation

/// An event as stored in the outbox and published: what webhooks deliver and
/// `GET /internal/v1/events` lists (docs/events.md).
public struct OutboxEvent: Hashable, Sendable {
    /// The outbox row; internal.
    public var rowID: Int64
    /// The public, stable id receivers deduplicate by.
    public var id: UUID
    public var type: EventType
    public var schemaVersion: Int
    public var occurredAt: Date
    /// The order of publication; nil until published.
    public var sequence: Int64?
    /// Events of one subscription are delivered in order.
    public var subscriptionID: UUID?
    public var userID: UUID?
    /// The entity snapshot, a JSON object.
    public var data: String

    public init(rowID: Int64, id: UUID, type: EventType, schemaVersion: Int, occurredAt: Date, sequence: Int64?, subscriptionID: UUID?, userID: UUID?, data: String) {
        self.rowID = rowID
        self.id = id
        self.type = type
        self.schemaVersion = schemaVersion
        self.occurredAt = occurredAt
        self.sequence = sequence
        self.subscriptionID = subscriptionID
        self.userID = userID
        self.data = data
    }
}
