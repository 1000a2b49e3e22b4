/// The acquirers this deployment can take payments through, by name.
public struct AcquirerRegistry: Sendable {
    private let acquirers: [String: any Acquirer]
    /// The acquirer new checkouts go to.
    public let primary: any Acquirer

    public init(primary: any Acquirer, others: [any Acquirer] = []) {
        self.primary = primary
        self.acquirers = Dictionary(([primary] + others).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public func acquirer(named name: String) -> (any Acquirer)? { acquirers[name] }
}
