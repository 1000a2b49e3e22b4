import Foundation
import Synchronization

/// The wall clock plus an offset that only grows: `MOVIX_CLOCK=offset` (the default under `dev`)
/// lets a demo or a test jump ahead (a month to a renewal, hours past the first hour of a
/// cancellation) while the acquirer and user tokens keep real time. Moving back is not offered:
/// time running backwards would undo what billing already decided by it.
public final class OffsetClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    public init() {}

    /// Moves the clock forward by `seconds` (not negative); returns the new time.
    @discardableResult
    public func advance(by seconds: TimeInterval) -> Date {
        precondition(seconds >= 0, "the clock only moves forward")
        offset.withLock { $0 += seconds }
        return now()
    }

    /// How far ahead of the wall clock it runs.
    public var offsetSeconds: TimeInterval { offset.withLock { $0 } }

    public func now() -> Date { Date().addingTimeInterval(offsetSeconds) }

    /// This clock as the use cases read it.
    public var billingClock: BillingClock { BillingClock { [self] in now() } }
}
