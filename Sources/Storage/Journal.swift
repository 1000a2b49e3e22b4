import BillingCore
import Foundation

/// What a transaction records besides the rows it changes: the history of every state change,
/// the events other services must hear of, and the acquirer messages behind them. Collected while
/// the transaction runs and written by `JournalRepository` in one statement just before commit.
public struct Journal: Sendable {
    /// One state change, as a `state_transitions` row.
    public struct Transition: Sendable, Equatable {
        public var entity: String
        public var id: UUID
        public var from: String?
        public var to: String
        public var event: String
        public var actor: String
    }

    /// An event for the outbox; `payload` is a JSON object.
    public struct Event: Sendable, Equatable {
        public var type: String
        public var aggregateID: UUID
        public var payload: String
    }

    public private(set) var transitions: [Transition] = []
    public private(set) var events: [Event] = []
    public private(set) var acquiringLog: [AcquiringLogEntry] = []

    public init() {}

    public var isEmpty: Bool { transitions.isEmpty && events.isEmpty && acquiringLog.isEmpty }

    public mutating func recordTransition(entity: String, id: UUID, from: String?, to: String, event: String, actor: String) {
        transitions.append(Transition(entity: entity, id: id, from: from, to: to, event: event, actor: actor))
    }

    public mutating func enqueueEvent(type: String, aggregateID: UUID, payload: String) {
        events.append(Event(type: type, aggregateID: aggregateID, payload: payload))
    }

    public mutating func log(_ entry: AcquiringLogEntry) {
        acquiringLog.append(entry)
    }
}
