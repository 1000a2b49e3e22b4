import BillingCore
import Foundation

/// What a transaction records besides the rows it changes: the history of every state change,
/// the events other services must hear of, the acquirer messages behind them, and the work it
/// leaves for the worker. Collected while
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

    /// An event for the outbox; `payload` is its snapshot, a JSON object (docs/events.md).
    public struct Event: Sendable, Equatable {
        /// The public id, when the event must have one that running its cause again gives again
        /// (a second one with the same id is not written); nil for a new one.
        public var id: UUID?
        public var type: EventType
        /// The entity the event is about (a subscription, an invoice, a payment).
        public var aggregateID: UUID
        /// The subscription whose events are delivered in order; nil lets the outbox take it
        /// from the invoice `aggregateID` names (refunds know their invoice, not its subscription).
        public var subscriptionID: UUID?
        public var userID: UUID?
        public var occurredAt: Date
        public var payload: String
    }

    /// Work for the worker, due at `runAt`.
    public struct ScheduledJob: Sendable, Equatable {
        public var kind: JobKind
        public var key: JobKey
        public var runAt: Date
    }

    public private(set) var transitions: [Transition] = []
    public private(set) var events: [Event] = []
    public private(set) var acquiringLog: [AcquiringLogEntry] = []
    public private(set) var jobs: [ScheduledJob] = []

    public init() {}

    public var isEmpty: Bool { transitions.isEmpty && events.isEmpty && acquiringLog.isEmpty && jobs.isEmpty }

    public mutating func recordTransition(entity: String, id: UUID, from: String?, to: String, event: String, actor: String) {
        transitions.append(Transition(entity: entity, id: id, from: from, to: to, event: event, actor: actor))
    }

    public mutating func enqueueEvent(_ type: EventType, id: UUID? = nil, aggregateID: UUID, subscriptionID: UUID?, userID: UUID?, at occurredAt: Date, payload: String) {
        events.append(Event(id: id, type: type, aggregateID: aggregateID, subscriptionID: subscriptionID, userID: userID, occurredAt: occurredAt, payload: payload))
    }

    public mutating func log(_ entry: AcquiringLogEntry) {
        acquiringLog.append(entry)
    }

    /// Schedules `kind` for `key` at `runAt` when the transaction commits. A job already waiting
    /// for the same key keeps its time; one that already ran is run again (jobs check what they
    /// find, so running one again is safe: auto-renew switched back on, say).
    public mutating func schedule(_ kind: JobKind, key: JobKey, at runAt: Date) {
        guard !jobs.contains(where: { $0.kind == kind && $0.key == key }) else { return }
        jobs.append(ScheduledJob(kind: kind, key: key, runAt: runAt))
    }
}
