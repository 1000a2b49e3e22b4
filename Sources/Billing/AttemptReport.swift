import Acquiring
import BillingCore
import Foundation

/// What an acquirer reports about one of its transactions, from a notification, a charge's answer
/// or reconciliation: the same facts, applied the same way whichever road they came by.
public struct AttemptReport: Sendable {
    public var transactionID: String
    /// The invoice id as the acquirer gave it, verbatim.
    public var invoiceID: String?
    public var accountID: String?
    public var amount: Money?
    public var card: CardDetails?
    /// A saved-card token, when the acquirer issued one; never logged.
    public var token: String?
    public var occurredAt: Date?

    public init(transactionID: String, invoiceID: String?, accountID: String?, amount: Money?, card: CardDetails? = nil, token: String? = nil, occurredAt: Date? = nil) {
        self.transactionID = transactionID
        self.invoiceID = invoiceID
        self.accountID = accountID
        self.amount = amount
        self.card = card
        self.token = token
        self.occurredAt = occurredAt
    }
}

extension AttemptReport {
    /// The report of a payment the acquirer answered a call with.
    init(_ payment: AcquirerPayment) {
        self.init(transactionID: payment.transactionID, invoiceID: payment.invoiceID, accountID: payment.accountID, amount: payment.amount, card: payment.card, occurredAt: payment.occurredAt)
    }
}
