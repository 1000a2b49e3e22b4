import Foundation

/// Where use cases read the time: the wall clock in production, a fixed or moving one in tests.
public struct BillingClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    /// The system clock.
    public static let system = BillingClock { Date() }

    /// The time now, by this clock.
    public func now() -> Date { read() }
}
