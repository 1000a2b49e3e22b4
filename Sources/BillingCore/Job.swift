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
    /// Tell the viewer a renewal is coming (`RenewalTerms.notice` before its charge).
    case renewalNotice = "renewal_notice"
}

/// What a job is about, as its key: a subscription and the end of the period it renews, closes or
/// announces (`renewal`, `expiry`, `renewal_notice`), or a renewal invoice and how many charges of it failed
/// (`dunning_retry`). Written `<uuid>/<number>`, so the key itself tells which work it is.
public struct JobKey: Hashable, Sendable, CustomStringConvertible {
    public var id: UUID
    public var number: Int64

    public init(id: UUID, number: Int64) {
        self.id = id
        self.number = number
    }

    /// A subscription's period ending at `end`, to the microsecond PostgreSQL keeps.
    public init(subscriptionID: UUID, periodEnd end: Date) {
        self.init(id: subscriptionID, number: Self.microseconds(end))
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let id = UUID(uuidString: String(parts[0])), let number = Int64(parts[1]) else { return nil }
        self.init(id: id, number: number)
    }

    public var description: String { "\(id.lowercased)/\(number)" }

    /// The period end a `renewal` or `expiry` key names.
    public var periodEnd: Date { Date(timeIntervalSince1970: Double(number) / 1_000_000) }

    /// Whether this key names the period ending at `end`: within a microsecond, since a key made
    /// from a time in memory and the same time stored in PostgreSQL (which keeps whole
    /// microseconds, cut off by the driver rather than rounded) can differ by one.
    public func names(periodEnd end: Date) -> Bool { abs(number - Self.microseconds(end)) <= 1 }

    /// A time as whole microseconds since 1970, cut off as PostgreSQL stores it.
    static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded(.down))
    }
}
