import BillingCore
import Foundation

/// A notification as it arrived over HTTP, before anything is trusted.
public struct IncomingNotification: Sendable {
    /// The last path component of the webhook URL, e.g. "pay".
    public var kind: String
    /// Header names lowercased.
    public var headers: [String: String]
    public var body: [UInt8]
    public var contentType: String?
    /// The sender's IP address, for acquirers that publish the ranges they send from.
    public var remoteAddress: String?

    public init(kind: String, headers: [String: String], body: [UInt8], contentType: String?, remoteAddress: String?) {
        self.kind = kind
        self.headers = headers
        self.body = body
        self.contentType = contentType
        self.remoteAddress = remoteAddress
    }
}

/// Which notification the acquirer sent.
public enum NotificationKind: String, Sendable, CaseIterable {
    case check, pay, fail, confirm, refund, cancel, recurrent
}

/// A verified notification in billing's terms.
public struct PaymentNotification: Sendable {
    public var kind: NotificationKind
    public var transactionID: String
    public var invoiceID: String?
    public var accountID: String?
    public var amount: Money?
    public var occurredAt: Date?
    public var card: CardDetails?
    /// A saved-card token, when the acquirer issued one; never logged.
    public var token: String?
    public var decline: Decline?
    /// A Pay that only holds the money (two-stage payment, not captured): not a payment yet.
    public var isHold: Bool
    /// For refunds: the payment the refund belongs to.
    public var paymentTransactionID: String?
    /// The fields as received, with secrets removed, for the acquiring log.
    public var loggablePayload: String

    public init(kind: NotificationKind, transactionID: String, invoiceID: String?, accountID: String?, amount: Money?, occurredAt: Date?, card: CardDetails?, token: String?, decline: Decline?, isHold: Bool = false, paymentTransactionID: String?, loggablePayload: String) {
        self.kind = kind
        self.transactionID = transactionID
        self.invoiceID = invoiceID
        self.accountID = accountID
        self.amount = amount
        self.occurredAt = occurredAt
        self.card = card
        self.token = token
        self.decline = decline
        self.isHold = isHold
        self.paymentTransactionID = paymentTransactionID
        self.loggablePayload = loggablePayload
    }
}

/// Why a notification was not accepted.
public enum NotificationError: Error, Sendable, Equatable {
    /// Missing or wrong signature: the sender is not the acquirer.
    case badSignature
    /// Signed, but not a notification we can read.
    case malformed(String)
}

/// The HTTP body to answer a notification with.
public struct NotificationReply: Sendable {
    public var contentType: String
    public var body: String

    public init(contentType: String, body: String) {
        self.contentType = contentType
        self.body = body
    }
}
