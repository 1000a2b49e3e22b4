import Foundation

/// Our answer to an acquirer's Check: may this payment for this invoice go ahead?
/// The raw values are CloudPayments' reply codes, which other acquirers' adapters map from.
public enum CheckDecision: Int, Hashable, Sendable {
    case accept = 0
    case unknownInvoice = 10
    case wrongAccount = 11
    case wrongAmount = 12
    case notAccepted = 13
    case expired = 20
}

/// The facts about an invoice that a Check is judged against.
public struct InvoiceForCheck: Sendable {
    /// The account id the acquirer knows the invoice's owner by.
    public var accountID: String
    public var amount: Money
    public var status: InvoiceStatus
    public var createdAt: Date
    /// A renewal invoice stays payable (a new card during the grace) until its subscription ends
    /// and closes it; only a checkout's invoice goes stale with age.
    public var kind: Invoice.Kind

    public init(accountID: String, amount: Money, status: InvoiceStatus, createdAt: Date, kind: Invoice.Kind = .initial) {
        self.accountID = accountID
        self.amount = amount
        self.status = status
        self.createdAt = createdAt
        self.kind = kind
    }
}

/// What the acquirer claims about the payment it is about to make.
public struct PaymentClaim: Sendable {
    public var accountID: String?
    public var amount: Money?

    public init(accountID: String?, amount: Money?) {
        self.accountID = accountID
        self.amount = amount
    }
}

/// How long a viewer has to pay an invoice once it is created.
public let checkoutLifetime: TimeInterval = 24 * 60 * 60

/// Whether an invoice created at `createdAt` is too old to be paid at `now`.
public func checkoutExpired(createdAt: Date, now: Date) -> Bool {
    now.timeIntervalSince(createdAt) > checkoutLifetime
}

/// Judges a Check: the invoice must exist, belong to the paying account, ask for exactly this
/// amount in this currency, be open (a declined attempt leaves it open for a retry), and not be stale.
public func decideCheck(invoice: InvoiceForCheck?, claim: PaymentClaim, now: Date) -> CheckDecision {
    guard let invoice else { return .unknownInvoice }
    guard claim.accountID == invoice.accountID else { return .wrongAccount }
    guard claim.amount == invoice.amount else { return .wrongAmount }
    guard invoice.status.isOpen else { return .notAccepted }
    guard invoice.kind == .renewal || !checkoutExpired(createdAt: invoice.createdAt, now: now) else { return .expired }
    return .accept
}
