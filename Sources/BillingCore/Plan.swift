import Foundation

/// A subscription plan a viewer can buy: a tier sold for a number of months at a fixed price.
public struct Plan: Hashable, Sendable {
    public var id: UUID
    public var code: String
    public var tier: String
    public var title: String
    public var periodMonths: Int
    public var price: Money
    public var active: Bool

    public init(id: UUID, code: String, tier: String, title: String, periodMonths: Int, price: Money, active: Bool = true) {
        self.id = id
        self.code = code
        self.tier = tier
        self.title = title
        self.periodMonths = periodMonths
        self.price = price
        self.active = active
    }
}
