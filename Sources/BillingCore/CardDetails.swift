/// What we may keep about a card: its mask and expiry, never the number.
public struct CardDetails: Sendable, Hashable {
    public var firstSix: String
    public var lastFour: String
    public var brand: String?
    public var expiryMonth: Int?
    public var expiryYear: Int?

    public init(firstSix: String, lastFour: String, brand: String?, expiryMonth: Int?, expiryYear: Int?) {
        self.firstSix = firstSix
        self.lastFour = lastFour
        self.brand = brand
        self.expiryMonth = expiryMonth
        self.expiryYear = expiryYear
    }

    /// "424242******4242"
    public var mask: String { firstSix + "******" + lastFour }
}
