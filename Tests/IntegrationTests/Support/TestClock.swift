import Billing
import Foundation
import Synchronization

/// The wall clock moved by however far a test jumps: the acquirer keeps real time, billing's
/// use cases see the jump, as when a viewer comes back hours or months after paying.
final class TestClock: Sendable {
    private let offset = Mutex<TimeInterval>(0)

    /// Moves the clock forward.
    func advance(by seconds: TimeInterval) {
        offset.withLock { $0 += seconds }
    }

    var billingClock: BillingClock {
        BillingClock { [self] in Date().addingTimeInterval(offset.withLock { $0 }) }
    }
}
