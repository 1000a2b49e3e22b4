import BillingCore
import Foundation
import Metrics
import PostgresNIO
import Storage

/// The worker's engine: claims due jobs under a lease (`FOR UPDATE SKIP LOCKED`, so any number of
/// workers share them), runs each, and marks it done, gives it back for later, or records its
/// failure to be tried again with a growing delay. A job whose worker died is claimed again once
/// its lease ends; every job is safe to run twice.
public struct JobRunner: Sendable {
    let services: BillingServices
    /// This worker's name in `jobs.leased_by`.
    public let workerID: String
    /// How long a claimed job is this worker's; longer than any job takes (an acquirer call
    /// times out well within it).
    let lease: TimeInterval
    /// How many jobs one claim takes, all run at once.
    let batchSize: Int
    /// The real time leases are measured in, whatever the service's clock says.
    let leaseClock: BillingClock

    public init(services: BillingServices, workerID: String = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().lowercased.prefix(8))", lease: TimeInterval = 300, batchSize: Int = 32, leaseClock: BillingClock = .system) {
        self.services = services
        self.workerID = workerID
        self.lease = lease
        self.batchSize = batchSize
        self.leaseClock = leaseClock
    }

    /// Claims and runs one batch of due jobs; returns how many it claimed.
    @discardableResult
    public func runDue() async throws -> Int {
        let now = services.clock.now()
        let jobs = try await services.database.read {
            try await services.jobs.claim(worker: workerID, dueBy: now, now: leaseClock.now(), lease: lease, limit: batchSize, on: $0)
        }
        for job in jobs {
            Timer(label: "movix_job_lag_seconds", dimensions: [("kind", job.kind.rawValue)]).recordSeconds(max(0, now.timeIntervalSince(job.runAt)))
        }
        // Finished jobs are marked done together, in one commit for the batch: a crash before
        // it only means they run again, which finds them done.
        let finished = await withTaskGroup(of: Int64?.self) { group in
            for job in jobs { group.addTask { await run(job) } }
            return await group.reduce(into: [Int64]()) { ids, id in if let id { ids.append(id) } }
        }
        do {
            let now = services.clock.now()
            _ = try await services.database.read { try await services.jobs.complete(finished, worker: workerID, at: now, on: $0) }
        } catch {
            services.logger.warning("could not mark finished jobs done; they will run again", metadata: ["jobs": "\(finished.count)", "error": "\(error)"])
        }
        return jobs.count
    }

    /// Runs jobs until none is due: what a jump of the clock calls for. Bounded, so a job that
    /// keeps asking to run again at once cannot hold the caller for ever.
    public func drain(maxBatches: Int = 10_000) async throws {
        for _ in 0..<maxBatches where try await runDue() == 0 { return }
    }

    /// After the clock jumped: every job that became due, then reconciliation (lapsed
    /// subscriptions expire). Failures are the jobs' own (recorded on them) or logged.
    public func runWhatBecameDue() async {
        do {
            try await drain()
            _ = try await reconcile()
        } catch {
            services.logger.warning("could not run what the clock made due", metadata: ["error": "\(error)"])
        }
    }

    /// Runs reconciliation (`Reconciliation.run`) unless another worker is running it now:
    /// one at a time is enough, and spares the acquirer the same questions twice.
    public func reconcile() async throws -> Reconciliation.Summary? {
        try await services.database.read { connection in
            let lockID: Int64 = 0x6d6f_7669_7872_6563 // "movixrec"
            var held = false
            for try await locked in try await connection.query("SELECT pg_try_advisory_lock(\(lockID))", logger: connection.logger).decode(Bool.self) {
                held = locked
            }
            guard held else { return nil }
            let summary = await Reconciliation(services: services).run()
            // Done jobs are kept a month, for the record, then go.
            let purged = try await services.jobs.purge(doneBefore: services.clock.now().addingTimeInterval(-30 * 86_400), limit: 10_000, on: connection)
            if purged > 0 { services.logger.info("old jobs purged", metadata: ["jobs": "\(purged)"]) }
            try await connection.run("SELECT pg_advisory_unlock(\(lockID))", logger: connection.logger)
            return summary
        }
    }

    /// Runs one job; returns its id when it is done (to be marked so with its batch). A job that
    /// is to run again later, or failed, is given back at once.
    private func run(_ job: Job) async -> Int64? {
        let renewals = Renewals(services: services)
        do {
            guard let key = JobKey(job.key) else { throw InvalidJobKey(job: job) }
            let outcome: Renewals.Outcome
            switch job.kind {
            case .renewal: outcome = try await renewals.renew(subscriptionID: key.id, periodEnd: key.periodEnd)
            case .dunningRetry: outcome = try await renewals.retry(invoiceID: key.id, failures: key.number)
            case .expiry: outcome = try await renewals.enforceDeadline(subscriptionID: key.id, periodEnd: key.periodEnd)
            case .renewalNotice: outcome = try await renewals.announce(subscriptionID: key.id, periodEnd: key.periodEnd)
            }
            Counter(label: "movix_jobs_total", dimensions: [("kind", job.kind.rawValue), ("outcome", outcome == .done ? "done" : "postponed")]).increment()
            guard case .runAgain(let at) = outcome else { return job.id }
            _ = try await services.database.read { try await services.jobs.postpone(job.id, worker: workerID, to: at, on: $0) }
            return nil
        } catch {
            // 30 s, 1 min, 2 min... up to an hour: a database or acquirer outage is waited out.
            let delay = min(3600, 30 * pow(2, Double(min(job.attempts - 1, 7))))
            services.logger.warning("job failed", metadata: ["job": "\(job.kind.rawValue) \(job.key)", "attempt": "\(job.attempts)", "error": "\(error)"])
            _ = try? await services.database.read { connection in
                try await services.jobs.fail(job.id, worker: workerID, error: "\(error)", retryAt: services.clock.now().addingTimeInterval(delay), on: connection)
            }
            Counter(label: "movix_jobs_total", dimensions: [("kind", job.kind.rawValue), ("outcome", "failed")]).increment()
            return nil
        }
    }
}

/// A job row whose key its kind cannot read: written by something other than this service.
struct InvalidJobKey: Error, CustomStringConvertible {
    var job: Job
    var description: String { "job \(job.id) (\(job.kind.rawValue)) has a key that is not <uuid>/<number>: \(job.key)" }
}

