import BillingCore
import PostgresNIO

/// Writes a `Journal` into `state_transitions`, `outbox_events`, `acquiring_log` and `jobs` with a single
/// statement (and wakes the event publisher): a payment notification then costs one round trip for all its records, not five.
public struct JournalRepository: Sendable {
    public init() {}

    /// The LISTEN/NOTIFY channel that says events were committed.
    public static let eventsChannel = "movix_events"

    public func write(_ journal: Journal, on connection: PostgresConnection) async throws {
        guard !journal.isEmpty else { return }
        var bindings = PostgresBindings()
        var inserts: [String] = []

        if !journal.transitions.isEmpty {
            let rows = try journal.transitions.map { transition in
                try bindings.row(transition.entity, transition.id, transition.from, transition.to, transition.event, transition.actor)
            }
            inserts.append("INSERT INTO state_transitions (entity, entity_id, from_state, to_state, event, actor) VALUES \(rows.joined(separator: ", "))")
        }
        if !journal.events.isEmpty {
            let rows = try journal.events.enumerated().map { index, event in
                try bindings.row(
                    index, event.id, event.type.rawValue, event.aggregateID, event.subscriptionID, event.userID, event.occurredAt, event.payload,
                    casts: [0: "integer", 1: "uuid", 3: "uuid", 4: "uuid", 5: "uuid", 6: "timestamptz", 7: "jsonb"]
                )
            }
            // A refund knows its invoice, not its subscription or viewer: they come from the invoice.
            // Ordered, so the events of one transaction are published in the order they happened.
            inserts.append("""
                INSERT INTO outbox_events (event_id, type, aggregate_id, subscription_id, user_id, occurred_at, schema_version, payload)
                SELECT coalesce(v.id, gen_random_uuid()), v.type, v.aggregate_id, coalesce(v.subscription_id, i.subscription_id),
                       coalesce(v.user_id, i.user_id), v.occurred_at, \(EventType.schemaVersion), v.payload
                FROM (VALUES \(rows.joined(separator: ", "))) AS v (n, id, type, aggregate_id, subscription_id, user_id, occurred_at, payload)
                LEFT JOIN invoices i ON i.id = v.aggregate_id
                ORDER BY v.n
                ON CONFLICT (event_id) DO NOTHING
                """)
        }
        if !journal.acquiringLog.isEmpty {
            let rows = try journal.acquiringLog.map { entry in
                try bindings.row(
                    entry.acquirer, entry.direction.rawValue, entry.operation, entry.transactionID, entry.invoiceID,
                    entry.httpStatus, entry.code, entry.message, entry.payload, entry.durationMilliseconds
                )
            }
            inserts.append("""
                INSERT INTO acquiring_log (acquirer, direction, operation, transaction_id, invoice_id, http_status, code, message, payload, duration_ms)
                VALUES \(rows.joined(separator: ", "))
                """)
        }
        if !journal.jobs.isEmpty {
            let rows = try journal.jobs.map { job in try bindings.row(job.kind.rawValue, job.key.description, job.runAt) }
            inserts.append("""
                INSERT INTO jobs (kind, key, run_at) VALUES \(rows.joined(separator: ", "))
                ON CONFLICT (kind, key) DO UPDATE SET run_at = EXCLUDED.run_at, done_at = NULL, attempts = 0, last_error = NULL
                WHERE jobs.done_at IS NOT NULL
                """)
        }
        // Data-modifying CTEs all run, in one statement, whatever the final SELECT reads.
        let ctes = inserts.enumerated().map { "write\($0.offset) AS (\($0.element))" }.joined(separator: ",\n")
        // The publisher listens: a commit with events wakes it at once (NOTIFY is sent on commit).
        let result = journal.events.isEmpty ? "SELECT 1" : "SELECT pg_notify('\(Self.eventsChannel)', '')"
        let sql = "WITH \(ctes)\n\(result)"
        try await connection.run(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: connection.logger)
    }
}

extension PostgresBindings {
    /// Appends the values of one VALUES row and returns its placeholders, e.g. `($4, $5, $6::jsonb)`.
    fileprivate mutating func row(_ values: (any PostgresEncodable & Sendable)?..., casts: [Int: String] = [:]) throws -> String {
        let placeholders = try values.enumerated().map { index, value in
            try placeholder(for: value) + (casts[index].map { "::\($0)" } ?? "")
        }
        return "(" + placeholders.joined(separator: ", ") + ")"
    }
}
