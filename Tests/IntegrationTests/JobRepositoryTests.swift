import BillingCore
import Foundation
import PostgresNIO
import Storage
import Testing

/// The worker's job table on a real PostgreSQL: scheduled once, claimed by one worker at a time,
/// taken over after a lease ends, finished only by its holder.
@Suite("Jobs")
struct JobRepositoryTests {
    let jobs = JobRepository()

    /// Schedules jobs as the use cases do: with a transaction's journal.
    func schedule(_ kind: JobKind, _ keys: [JobKey], at runAt: (Int) -> Date, on connection: PostgresConnection) async throws {
        var journal = Journal()
        for (index, key) in keys.enumerated() { journal.schedule(kind, key: key, at: runAt(index)) }
        try await JournalRepository().write(journal, on: connection)
    }

    @Test("two workers claiming 300 due jobs at once claim each exactly once; scheduling again adds nothing")
    func racingWorkers() async throws {
        try await withTestDatabase { database in
            let now = Date()
            let keys = (0..<300).map { JobKey(id: UUID(), number: Int64($0)) }
            try await database.transaction { connection in
                try await schedule(.renewal, keys, at: { now.addingTimeInterval(-Double($0)) }, on: connection)
            }
            try await database.transaction { connection in
                try await schedule(.renewal, [keys[7]], at: { _ in now.addingTimeInterval(3600) }, on: connection)
                try await schedule(.expiry, [keys[7]], at: { _ in now.addingTimeInterval(3600) }, on: connection)
            }
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'renewal'") == 300, "the same kind and key again is the same job")
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'renewal' AND run_at > \(now)") == 0, "and it keeps its time")
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE kind = 'expiry'") == 1, "another kind is another job")
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in ["worker-a", "worker-b"] {
                    group.addTask {
                        var mine: [Int64] = []
                        while true {
                            let batch = try await database.transaction { try await jobs.claim(worker: worker, dueBy: now, now: now, lease: 60, limit: 7, on: $0) }
                            if batch.isEmpty { return mine }
                            let completed = try await database.transaction { try await jobs.complete(batch.map(\.id), worker: worker, at: now, on: $0) }
                            #expect(completed == batch.count)
                            mine += batch.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
            }
            let all = claimed.flatMap { $0 }
            #expect(all.count == 300)
            #expect(Set(all).count == 300, "no job claimed twice")
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE done_at IS NULL") == 1, "the expiry job is not due yet")
        }
    }

    @Test("a crashed worker's job is taken over once its lease ends, and the crashed worker cannot finish it; a failed job runs again later")
    func leases() async throws {
        try await withTestDatabase { database in
            let now = Date()
            let (first, early, late, stale, retried) = try await database.transaction { connection in
                try await schedule(.dunningRetry, [JobKey(id: UUID(), number: 1)], at: { _ in now }, on: connection)
                let first = try await jobs.claim(worker: "crashed", dueBy: now, now: now, lease: 60, limit: 10, on: connection)
                // The service's clock jumped a month (time travel); real time moved a second: still held.
                let jumped = try await jobs.claim(worker: "other", dueBy: now.addingTimeInterval(30 * 86_400), now: now.addingTimeInterval(1), lease: 60, limit: 10, on: connection)
                #expect(jumped.isEmpty, "a lease runs on real time, not the service's clock")
                let early = try await jobs.claim(worker: "other", dueBy: now.addingTimeInterval(59), now: now.addingTimeInterval(59), lease: 60, limit: 10, on: connection)
                let late = try await jobs.claim(worker: "other", dueBy: now.addingTimeInterval(61), now: now.addingTimeInterval(61), lease: 60, limit: 10, on: connection)
                let stale = try await jobs.complete([first[0].id], worker: "crashed", at: now.addingTimeInterval(62), on: connection) == 1
                let failed = try await jobs.fail(late[0].id, worker: "other", error: "issuer unavailable", retryAt: now.addingTimeInterval(86_400), on: connection)
                #expect(failed)
                let retried = try await jobs.claim(worker: "other", dueBy: now.addingTimeInterval(86_401), now: now.addingTimeInterval(86_401), lease: 60, limit: 10, on: connection)
                return (first, early, late, stale, retried)
            }
            #expect(first.map(\.kind) == [.dunningRetry])
            #expect(early.isEmpty, "held while the lease runs")
            #expect(late.map(\.id) == first.map(\.id))
            #expect(late.first?.attempts == 2)
            #expect(stale == false)
            #expect(retried.first?.attempts == 3)
        }
    }

    @Test("purging removes only jobs done before the cutoff; a job that ran, scheduled again, runs again")
    func purge() async throws {
        try await withTestDatabase { database in
            let now = Date()
            let keys = (0..<3).map { JobKey(id: UUID(), number: Int64($0)) }
            let purged = try await database.transaction { connection -> Int in
                try await schedule(.expiry, keys, at: { _ in now }, on: connection)
                let claimed = try await jobs.claim(worker: "w", dueBy: now, now: now, lease: 60, limit: 3, on: connection)
                _ = try await jobs.complete(Array(claimed.prefix(2).map(\.id)), worker: "w", at: now.addingTimeInterval(-40 * 86_400), on: connection)
                _ = try await jobs.complete([claimed[2].id], worker: "w", at: now, on: connection)
                return try await jobs.purge(doneBefore: now.addingTimeInterval(-30 * 86_400), limit: 100, on: connection)
            }
            #expect(purged == 2)
            #expect(try await database.count("SELECT count(*)::int FROM jobs") == 1, "the job done now stays")
            // Scheduled again (auto-renew switched back on, say), a job that ran runs again.
            try await database.transaction { try await schedule(.expiry, keys, at: { _ in now }, on: $0) }
            #expect(try await database.count("SELECT count(*)::int FROM jobs WHERE done_at IS NULL") == 3)
        }
    }

    @Test("an unknown kind in the table is an error, not a guess")
    func unknownKind() async throws {
        try await withTestDatabase { database in
            try await database.client.query("ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check", logger: testLogger)
            try await database.client.query("INSERT INTO jobs (kind, key, run_at) VALUES ('mystery', 'k', now() - interval '1 minute')", logger: testLogger)
            await #expect(throws: UnknownDatabaseValue.self) {
                try await database.transaction { try await jobs.claim(worker: "w", dueBy: Date(), now: Date(), lease: 60, limit: 1, on: $0) }
            }
        }
    }
}
