import Acquiring
import Billing
import Foundation
import Logging
import Storage

// One benchmark worker: runs due jobs with `JobRunner`, as `movix-billing worker` does, until
// no renewal is due any more, then prints what it did as one JSON line.
//
//   RenewalBench <database-url> [--batch 64] [--pool 8] [--idle-exit 3]

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, default fallback: Int, in arguments: [String] = arguments) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { return fallback }
    return value
}
guard let url = arguments.first, !url.hasPrefix("--") else {
    FileHandle.standardError.write(Data("usage: RenewalBench <database-url> [--batch 64] [--pool 8] [--idle-exit 3]\n".utf8))
    exit(64)
}
let batch = option("--batch", default: 64)
let pool = option("--pool", default: 8)
let idleExit = option("--idle-exit", default: 3)

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let logger = Logger(label: "renewal-bench")
let configuration = try DatabaseURL.configuration(from: url, poolSize: pool)
let result = try await Database.withConnected(configuration, logger: logger) { database -> (jobs: Int, seconds: Double) in
    let services = BillingServices(
        database: Database(client: database.client, logger: logger, leaseTimeout: .seconds(60)),
        acquirers: AcquirerRegistry(primary: InstantAcquirer()), acquiringLog: PostgresAcquiringLog(database: database), logger: logger
    )
    let runner = JobRunner(services: services, batchSize: batch)
    let clock = ContinuousClock()
    let started = clock.now
    var lastWork = started
    var jobs = 0
    // Until no renewal is due (expiry jobs of renewed periods keep falling due through the day,
    // and run as they would in production) and nothing was claimed for `--idle-exit` seconds.
    while true {
        let claimed = try await runner.runDue()
        if claimed > 0 {
            jobs += claimed
            lastWork = clock.now
        }
        if claimed < batch {
            let renewalsDue = try await database.client.query(
                "SELECT count(*)::int FROM jobs WHERE kind = 'renewal' AND done_at IS NULL AND run_at <= now()", logger: logger
            ).decode(Int.self).reduce(0, +)
            if renewalsDue == 0 && (claimed == 0 || clock.now - lastWork >= .seconds(idleExit)) { break }
            if claimed == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
    }
    let busy = lastWork - started
    return (jobs, Double(busy.components.seconds) + Double(busy.components.attoseconds) / 1e18)
}
print("{\"jobs\": \(result.jobs), \"seconds\": \(result.seconds)}")
