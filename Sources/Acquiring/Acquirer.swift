import BillingCore
import Foundation

/// A payment acquirer: everything billing needs from one, independent of its wire protocol.
/// A new acquirer is one new type conforming to this plus one line in `AcquirerRegistry`.
public protocol Acquirer: Sendable {
    /// The stable name stored on invoices and log rows, e.g. "cloudpayments".
    var name: String { get }

    /// What the viewer's browser needs to show the acquirer's card form for an invoice.
    func browserCheckout(for request: CheckoutRequest) -> BrowserCheckout

    /// Verifies a notification, then parses it. CloudPayments signs the raw bytes; acquirers that
    /// do not sign (YooKassa) verify by source address and by fetching the payment back, hence async.
    func parseNotification(_ notification: IncomingNotification) async throws(NotificationError) -> PaymentNotification

    /// The body the acquirer expects in answer to a notification.
    func reply(to kind: NotificationKind, decision: CheckDecision) -> NotificationReply

    /// A merchant- or cardholder-initiated charge of a saved card.
    func chargeSavedCard(_ request: SavedCardCharge) async throws -> ChargeOutcome

    /// Refunds part or all of a payment.
    func refund(transactionID: String, amount: Money, idempotencyKey: String) async throws -> RefundOutcome

    /// The acquirer's latest payment for an invoice, for reconciliation; nil when it has none.
    func findPayment(invoiceID: UUID) async throws -> AcquirerPayment?

    /// One payment by its transaction id, for reconciliation; nil when the acquirer has none.
    func findPayment(transactionID: String) async throws -> AcquirerPayment?

    /// The account id this acquirer knows a viewer by (its `AccountId`).
    func accountID(for userID: UUID) -> String
}

/// The invoice a browser checkout is for.
public struct CheckoutRequest: Sendable {
    public var invoiceID: UUID
    public var userID: UUID
    public var amount: Money
    public var description: String
    public var email: String?

    public init(invoiceID: UUID, userID: UUID, amount: Money, description: String, email: String?) {
        self.invoiceID = invoiceID
        self.userID = userID
        self.amount = amount
        self.description = description
        self.email = email
    }
}

/// The acquirer's browser integration: a script and the options to call it with.
public struct BrowserCheckout: Sendable, Encodable {
    /// The script that renders the card form (the widget).
    public var scriptURL: String
    /// Options for the widget, in the acquirer's own names and formats.
    public var options: [String: WidgetValue]

    public init(scriptURL: String, options: [String: WidgetValue]) {
        self.scriptURL = scriptURL
        self.options = options
    }
}

/// A JSON value in widget options; amounts there are in the acquirer's decimal format.
public enum WidgetValue: Sendable, Encodable, Hashable {
    case string(String)
    case decimal(String)
    case bool(Bool)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        // A JSON number written from exact decimal text, never through Double.
        case .decimal(let text): try container.encode(Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) ?? 0)
        case .bool(let flag): try container.encode(flag)
        }
    }
}

/// A saved-card charge request.
public struct SavedCardCharge: Sendable {
    public var invoiceID: UUID
    public var userID: UUID
    public var amount: Money
    public var token: String
    public var description: String
    public var email: String?
    /// True when the viewer pressed "Pay" (cardholder-initiated); false for scheduled renewals.
    public var initiatedByCardholder: Bool
    public var idempotencyKey: String

    public init(invoiceID: UUID, userID: UUID, amount: Money, token: String, description: String, email: String?, initiatedByCardholder: Bool, idempotencyKey: String) {
        self.invoiceID = invoiceID
        self.userID = userID
        self.amount = amount
        self.token = token
        self.description = description
        self.email = email
        self.initiatedByCardholder = initiatedByCardholder
        self.idempotencyKey = idempotencyKey
    }
}

/// A payment as the acquirer reports it.
public struct AcquirerPayment: Sendable, Hashable {
    /// Where the payment stands at the acquirer.
    public enum State: Sendable, Hashable {
        /// The money was captured.
        case succeeded
        /// Declined (or voided): no money moved.
        case declined(Decline)
        /// Not finished: 3-D Secure open, or an authorisation hold that is not captured money.
        case unfinished
    }

    public var transactionID: String
    public var invoiceID: String?
    public var accountID: String?
    public var amount: Money?
    public var state: State
    public var card: CardDetails?
    /// When the acquirer says it happened.
    public var occurredAt: Date?

    public init(transactionID: String, invoiceID: String?, accountID: String? = nil, amount: Money?, state: State, card: CardDetails? = nil, occurredAt: Date? = nil) {
        self.transactionID = transactionID
        self.invoiceID = invoiceID
        self.accountID = accountID
        self.amount = amount
        self.state = state
        self.card = card
        self.occurredAt = occurredAt
    }

    public var succeeded: Bool { state == .succeeded }

    public var decline: Decline? {
        if case .declined(let decline) = state { return decline }
        return nil
    }
}

/// The result of a charge call.
public enum ChargeOutcome: Sendable, Hashable {
    case succeeded(AcquirerPayment)
    case declined(AcquirerPayment)
    /// The acquirer wants the cardholder to authenticate first (never for merchant-initiated charges).
    case requiresAuthentication(transactionID: String, url: String)
}

/// The result of a refund call.
public enum RefundOutcome: Sendable, Hashable {
    case succeeded(refundTransactionID: String)
    case rejected(message: String)
}

/// The acquirer refused the request itself (`Success:false` with only a message): nothing was
/// created, so nothing is unknown.
public struct AcquirerRequestRejected: Error, CustomStringConvertible {
    public var operation: String
    public var message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }
}

/// An acquirer call that did not get a usable answer; the outcome is unknown until reconciled.
public struct AcquirerUnavailable: Error, CustomStringConvertible {
    public var operation: String
    public var detail: String

    public init(operation: String, detail: String) {
        self.operation = operation
        self.detail = detail
    }

    public var description: String { "\(operation): \(detail)" }
}
