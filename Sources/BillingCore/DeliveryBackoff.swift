import Foundation

/// When a failed delivery (a webhook, an email) is tried again: exponential backoff from `base`,
/// capped at `cap`, with jitter so that a receiver coming back is not hit by every retry at once.
/// Webhooks keep trying for good (hourly once capped); an endpoint whose deliveries have failed
/// for `failingAfter` is marked failing.
public struct DeliveryBackoff: Sendable, Hashable {
    public var base: TimeInterval
    public var cap: TimeInterval
    /// How far a delay is spread: 0.2 makes it anywhere within ±20% of its plain value.
    public var jitter: Double
    /// How long deliveries may fail before their endpoint is marked failing (or an email given up).
    public var failingAfter: TimeInterval

    public init(base: TimeInterval, cap: TimeInterval, jitter: Double = 0.2, failingAfter: TimeInterval = 3 * 86_400) {
        self.base = base
        self.cap = cap
        self.jitter = jitter
        self.failingAfter = failingAfter
    }

    /// Webhooks: 10 s, 20 s, 40 s... up to an hour; about 90 tries over the first 3 days.
    public static let webhooks = DeliveryBackoff(base: 10, cap: 3600)
    /// Email: 30 s, 1 min, 2 min... up to an hour, for 3 days.
    public static let email = DeliveryBackoff(base: 30, cap: 3600)

    /// The delay after the `failures`-th failure in a row (1 for the first); `random` is a number
    /// in 0..<1 (from the caller, so tests can pin it).
    public func delay(afterFailure failures: Int, random: Double) -> TimeInterval {
        let exponent = Double(min(max(failures, 1) - 1, 30))
        let plain = min(cap, base * pow(2, exponent))
        return plain * (1 - jitter + 2 * jitter * min(max(random, 0), 1))
    }

    /// Whether failures since `firstFailure` have lasted long enough to call it failing at `now`.
    public func isFailing(since firstFailure: Date, at now: Date) -> Bool {
        now.timeIntervalSince(firstFailure) >= failingAfter
    }
}
