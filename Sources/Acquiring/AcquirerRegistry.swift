import BillingCore

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

    /// The acquirer an invoice was issued through. Its tokens and payments exist only there, so
    /// another acquirer is never a stand-in: an unregistered name is a deployment error.
    public func acquirer(for invoice: Invoice) throws -> any Acquirer {
        guard let acquirer = acquirers[invoice.acquirer] else { throw UnknownAcquirer(name: invoice.acquirer) }
        return acquirer
    }
}

/// An invoice names an acquirer this deployment does not register.
public struct UnknownAcquirer: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "acquirer \(name) is not registered" }
}
