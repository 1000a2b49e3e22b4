import Foundation

/// A bill for one period of a subscription; its payment attempts are `PaymentAttempt`s.
public struct Invoice: Hashable, Sendable {
    /// Why the invoice was issued.
    public enum Kind: String, Hashable, Sendable, Codable {
        case initial, renewal
        /// A small charge that only saves a new card for renewals, refunded at once.
        case cardCheck = "card_check"
    }

    /// What a card check charges (and gives back): 1 ruble, as CloudPayments suggests for binding a card.
    public static let cardCheckAmount = Money.rub(100)

    public var id: UUID
    public var userID: UUID
    public var subscriptionID: UUID
    public var planID: UUID
    public var kind: Kind
    public var amount: Money
    public var status: InvoiceStatus
    public var acquirer: String
    public var acquirerTransactionID: String?
    public var paymentMethodID: UUID?
    public var period: BillingPeriod?
    public var failure: Decline?
    public var email: String?
    public var createdAt: Date
    public var paidAt: Date?
    /// The attempt whose money paid the invoice.
    public var paidAttemptID: UUID?

    public init(id: UUID, userID: UUID, subscriptionID: UUID, planID: UUID, kind: Kind, amount: Money, status: InvoiceStatus, acquirer: String, acquirerTransactionID: String? = nil, paymentMethodID: UUID? = nil, period: BillingPeriod? = nil, failure: Decline? = nil, email: String? = nil, createdAt: Date, paidAt: Date? = nil, paidAttemptID: UUID? = nil) {
        self.id = id
        self.userID = userID
        self.subscriptionID = subscriptionID
        self.planID = planID
        self.kind = kind
        self.amount = amount
        self.status = status
        self.acquirer = acquirer
        self.acquirerTransactionID = acquirerTransactionID
        self.paymentMethodID = paymentMethodID
        self.period = period
        self.failure = failure
        self.email = email
        self.createdAt = createdAt
        self.paidAt = paidAt
        self.paidAttemptID = paidAttemptID
    }
}

/// A declined payment's reason code and the message for the cardholder.
public struct Decline: Hashable, Sendable {
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }
}
