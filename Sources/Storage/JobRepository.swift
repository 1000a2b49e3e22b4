import BillingCore
import Foundation
import PostgresNIO

/// Jobs: scheduled with a transaction's `Journal`, claimed by one worker at a time under a lease.
public struct JobRepository: Sendable {
    public init() {}

    /// Up to `limit` jobs due by `due` (the service's clock) that nobody holds (never claimed, or
    /// their lease ended by `now`), leased to `worker` until `now + lease`. A lease measures how
    /// long a worker may be gone, so `now` is the real time even when the service's clock has
    /// jumped ahead (`MOVIX_CLOCK=offset`). Rows another worker is claiming at this moment are
    /// skipped, not waited for.
    public func claim(worker: String, dueBy due: Date, now: Date, lease: TimeInterval, limit: Int, on connection: PostgresConnection) async throws -> [Job] {
        let rows = try await connection.query("""
            UPDATE jobs SET leased_by = \(worker), leased_until = \(now.addingTimeInterval(lease)), attempts = attempts + 1
            WHERE id IN (
                SELECT id FROM jobs
                WHERE done_at IS NULL AND run_at <= \(due) AND (leased_until IS NULL OR leased_until <= \(now))
                ORDER BY run_at, id
                LIMIT \(limit)
                FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, key, run_at, attempts
            """, logger: connection.logger)
        var jobs: [Job] = []
        for try await (id, kind, key, runAt, attempts) in rows.decode((Int64, String, String, Date, Int).self) {
            guard let known = JobKind(rawValue: kind) else { throw UnknownDatabaseValue(column: "jobs.kind", value: kind) }
            jobs.append(Job(id: id, kind: known, key: key, runAt: runAt, attempts: attempts))
        }
        return jobs.sorted { ($0.runAt, $0.id) < ($1.runAt, $1.id) }
    }

    /// Marks jobs done, those `worker` still holds (a worker whose lease ran out and was taken
    /// over must not finish another's job); returns how many. One statement (one commit) for a
    /// batch's finished jobs.
    @discardableResult
    public func complete(_ ids: [Int64], worker: String, at now: Date, on connection: PostgresConnection) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        var completed = 0
        for try await _ in try await connection.query("""
            UPDATE jobs SET done_at = \(now), leased_by = NULL, leased_until = NULL
            WHERE id = ANY(\(ids)) AND leased_by = \(worker) AND done_at IS NULL RETURNING id
            """, logger: connection.logger) {
            completed += 1
        }
        return completed
    }

    /// Gives a job back after a failure, to run again at `retryAt`, if `worker` still holds it.
    public func fail(_ id: Int64, worker: String, error: String, retryAt: Date, on connection: PostgresConnection) async throws -> Bool {
        try await changedRow(connection.query("""
            UPDATE jobs SET leased_by = NULL, leased_until = NULL, run_at = \(retryAt), last_error = \(error)
            WHERE id = \(id) AND leased_by = \(worker) AND done_at IS NULL RETURNING id
            """, logger: connection.logger))
    }

    /// Where the queue of one kind stands: what `/metrics` reports.
    public struct QueueState: Sendable {
        public var kind: JobKind
        /// Due and not done.
        public var due: Int
        /// How long the oldest due job has waited, in seconds.
        public var oldestDueSeconds: Double
        /// Not done, and its last run failed.
        public var failing: Int
    }

    public func queue(at now: Date, on connection: PostgresConnection) async throws -> [QueueState] {
        var states: [QueueState] = []
        let rows = try await connection.query("""
            SELECT kind,
                   count(*) FILTER (WHERE run_at <= \(now))::int,
                   COALESCE(extract(epoch FROM \(now) - min(run_at) FILTER (WHERE run_at <= \(now))), 0)::float8,
                   count(*) FILTER (WHERE last_error IS NOT NULL)::int
            FROM jobs WHERE done_at IS NULL GROUP BY kind
            """, logger: connection.logger)
        for try await (kind, due, oldest, failing) in rows.decode((String, Int, Double, Int).self) {
            guard let known = JobKind(rawValue: kind) else { throw UnknownDatabaseValue(column: "jobs.kind", value: kind) }
            states.append(QueueState(kind: known, due: due, oldestDueSeconds: oldest, failing: failing))
        }
        return states
    }

    /// When the next unfinished `kind` job about `id` (a key `<id>/...`) is due, if there is one.
    public func nextRun(_ kind: JobKind, about id: UUID, on connection: PostgresConnection) async throws -> Date? {
        for try await runAt in try await connection.query("""
            SELECT min(run_at) FROM jobs WHERE kind = \(kind.rawValue) AND key LIKE \(id.lowercased + "/%") AND done_at IS NULL
            """, logger: connection.logger).decode(Date?.self) {
            return runAt
        }
        return nil
    }

    /// Deletes jobs done before `cutoff`; returns how many. Each period leaves two (its renewal
    /// and its expiry), so the table is kept to what is recent.
    @discardableResult
    public func purge(doneBefore cutoff: Date, limit: Int, on connection: PostgresConnection) async throws -> Int {
        var deleted = 0
        for try await _ in try await connection.query("""
            DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE done_at < \(cutoff) LIMIT \(limit)) RETURNING id
            """, logger: connection.logger) {
            deleted += 1
        }
        return deleted
    }

    /// Gives a job back unfinished, to run again at `runAt` (waiting for an outcome, a grace to
    /// end, or released at shutdown), if `worker` still holds it.
    @discardableResult
    public func postpone(_ id: Int64, worker: String, to runAt: Date, on connection: PostgresConnection) async throws -> Bool {
        try await changedRow(connection.query("""
            UPDATE jobs SET leased_by = NULL, leased_until = NULL, run_at = \(runAt)
            WHERE id = \(id) AND leased_by = \(worker) AND done_at IS NULL RETURNING id
            """, logger: connection.logger))
    }

    private func changedRow(_ rows: PostgresRowSequence) async throws -> Bool {
        var changed = false
        for try await _ in rows { changed = true }
        return changed
    }
}
