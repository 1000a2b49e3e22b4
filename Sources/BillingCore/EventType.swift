/// What an outbox event says happened; the names receivers subscribe to (docs/events.md).
public enum EventType: String, Sendable, CaseIterable, Codable {
    case invoicePaid = "invoice.paid"
    /// An attempt to pay the invoice was declined; it stays payable (a renewal is retried).
    case invoicePaymentFailed = "invoice.payment_failed"
    case subscriptionActivated = "subscription.activated"
    case subscriptionRenewed = "subscription.renewed"
    /// The renewal is charged in a few days (the notice a recurring charge owes the viewer).
    case subscriptionRenewalUpcoming = "subscription.renewal_upcoming"
    case subscriptionPastDue = "subscription.past_due"
    case subscriptionCanceled = "subscription.canceled"
    case subscriptionResumed = "subscription.resumed"
    case subscriptionExpired = "subscription.expired"
    case refundSucceeded = "refund.succeeded"
    case refundFailed = "refund.failed"
    /// Money arrived that fits no invoice; it is refunded.
    case paymentUnmatched = "payment.unmatched"
    /// A new card was saved for renewals.
    case paymentMethodUpdated = "payment_method.updated"

    /// The version of the envelope and snapshots this service writes; receivers can tell formats apart.
    public static let schemaVersion = 1
}
