import Foundation

/// A message to a viewer, rendered when its event was published and sent by the worker.
public struct Email: Hashable, Sendable {
    public var id: UUID
    /// The outbox row it was rendered from; one email per event and template.
    public var eventRowID: Int64
    public var template: EmailTemplate
    public var userID: UUID
    public var recipient: String
    public var language: Language
    public var subject: String
    public var textBody: String
    public var htmlBody: String
    public var status: EmailStatus
    public var attempts: Int
    public var createdAt: Date
    public var sentAt: Date?
    public var lastError: String?

    public init(id: UUID, eventRowID: Int64, template: EmailTemplate, userID: UUID, recipient: String, language: Language, subject: String, textBody: String, htmlBody: String, status: EmailStatus = .queued, attempts: Int = 0, createdAt: Date, sentAt: Date? = nil, lastError: String? = nil) {
        self.id = id
        self.eventRowID = eventRowID
        self.template = template
        self.userID = userID
        self.recipient = recipient
        self.language = language
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.status = status
        self.attempts = attempts
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.lastError = lastError
    }
}

/// Where an email stands.
public enum EmailStatus: String, Sendable, Hashable, CaseIterable {
    case queued, sent
    /// Refused by the mail server for good, or not accepted for `DeliveryBackoff.email.failingAfter`.
    case failed
}

/// Which email an event sends, if any (docs/events.md has the table).
public enum EmailTemplate: String, Sendable, Hashable, CaseIterable {
    case paymentSucceeded = "payment_succeeded"
    case paymentFailed = "payment_failed"
    case renewalUpcoming = "renewal_upcoming"
    case renewalFailed = "renewal_failed"
    case refundSucceeded = "refund_succeeded"
    case subscriptionCanceled = "subscription_canceled"
    case subscriptionExpired = "subscription_expired"

    /// The email for an event: `invoiceKind` tells a renewal's decline from a first payment's;
    /// `refundReason` leaves out the ruble of a card check given back (the viewer saw it happen).
    /// Every end of access is mailed, also after a cancellation or renewal switched off: the day
    /// it comes is news, weeks after the viewer chose it.
    public static func `for`(_ type: EventType, invoiceKind: Invoice.Kind?, refundReason: RefundReason?) -> EmailTemplate? {
        switch type {
        case .invoicePaid: invoiceKind == .cardCheck ? nil : .paymentSucceeded
        case .invoicePaymentFailed: invoiceKind == .renewal ? .renewalFailed : invoiceKind == .initial ? .paymentFailed : nil
        case .subscriptionRenewalUpcoming: .renewalUpcoming
        case .refundSucceeded: refundReason == .cardCheck ? nil : .refundSucceeded
        case .subscriptionCanceled: .subscriptionCanceled
        case .subscriptionExpired: .subscriptionExpired
        case .subscriptionActivated, .subscriptionRenewed, .subscriptionPastDue, .subscriptionResumed, .refundFailed, .paymentUnmatched, .paymentMethodUpdated: nil
        }
    }
}
