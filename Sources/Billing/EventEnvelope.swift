import BillingCore
import Foundation

/// The JSON body of an event as receivers get it, in webhooks and from `GET /internal/v1/events`:
/// the envelope around the snapshot (docs/events.md). Rendered the same way every time, so every
/// delivery of an event carries the same bytes.
public enum EventEnvelope {
    public static func json(_ event: OutboxEvent) -> String {
        let sequence = event.sequence.map(String.init) ?? "null"
        return "{\"id\":\"\(event.id.lowercased)\",\"type\":\"\(event.type.rawValue)\",\"schema_version\":\(event.schemaVersion),"
            + "\"occurred_at\":\"\(event.occurredAt.formatted(timeFormat))\",\"sequence\":\(sequence),"
            + "\"subscription_id\":\(quoted(event.subscriptionID)),\"user_id\":\(quoted(event.userID)),\"data\":\(event.data)}"
    }

    /// A list of events, as `GET /internal/v1/events` answers; `next_after` is where to read on
    /// from: the last event of the page, or the reader's own `after` when the page is empty.
    public static func page(_ events: [OutboxEvent], after: UUID?, hasMore: Bool) -> String {
        let next = quoted(events.last?.id ?? after)
        return "{\"events\":[" + events.map(json).joined(separator: ",") + "],\"has_more\":\(hasMore),\"next_after\":\(next)}"
    }

    private static func quoted(_ id: UUID?) -> String { id.map { "\"\($0.lowercased)\"" } ?? "null" }

    private static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
