import Foundation

/// A unit of scheduled work for `movix-billing worker` (issue 8): due at `runAt`, claimed by one
/// worker at a time under a lease, and idempotent, so a crashed worker's job is simply run again
/// once its lease ends.
public struct Job: Hashable, Sendable {
    public var id: Int64
    public var kind: JobKind
    /// What the job is about, unique per kind (a subscription and the period end it renews, say).
    public var key: String
    public var runAt: Date
    /// How many times it was claimed.
    public var attempts: Int

    public init(id: Int64, kind: JobKind, key: String, runAt: Date, attempts: Int) {
        self.id = id
        self.kind = kind
        self.key = key
        self.runAt = runAt
        self.attempts = attempts
    }
}

/// What a job does.
public enum JobKind: String, Hashable, Sendable, CaseIterable {
    /// Charge a subscription's next period.
    case renewal
    /// Charge again after a soft decline.
    case dunningRetry = "dunning_retry"
    /// End access whose grace is over.
    case expiry
}
