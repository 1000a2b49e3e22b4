import BillingCore
import Foundation

/// Why a use case refused a request, in billing's terms; the HTTP layer maps each to a problem
/// document, a worker to a log line.
public enum BillingError: Error, Sendable, Equatable {
    /// The plan named is not one on sale.
    case planNotOnSale(String)
    /// The viewer already has a running subscription.
    case alreadySubscribed(status: SubscriptionStatus, until: Date?)
    /// A payment for the viewer's open invoice is under way; it cannot be replaced now.
    case paymentInProgress(invoiceID: UUID)
    /// No such invoice (or not the caller's).
    case invoiceNotFound(String)
    /// The invoice cannot be paid in its state.
    case invoiceNotPayable(InvoiceStatus)
    /// The payment method is not one of the invoice owner's saved cards.
    case unknownPaymentMethod
    /// No acquirer of that name is registered.
    case unknownAcquirer(String)
    /// A notification whose signature does not verify: not the acquirer's.
    case badSignature
    /// A signed notification we cannot read.
    case malformedNotification(String)
    /// Only a paid invoice can be refunded.
    case invoiceNotRefundable(InvoiceStatus)
    /// The refund asked for is more than is left of the payment, or not a positive amount.
    case refundExceedsPayment(refundable: Money)
    /// An idempotency key came again with a different request.
    case idempotencyKeyReused
    /// The viewer has no subscription to act on.
    case noSubscription
    /// Only a running, paid subscription can be cancelled (or have its renewal switched).
    case subscriptionNotCancelable(SubscriptionStatus)
    /// The refund the viewer confirmed is no longer the quote (an hour passed, a month turned).
    case quoteChanged(refund: Money)
    /// A cancellation that refunded money, or whose access ended, cannot be taken back.
    case cannotResume(String)
    /// Automatic renewal needs a saved card to charge.
    case noCardToRenew
    /// A refund of the subscription's payment has no outcome yet; cancelling waits for it.
    case refundInProgress
    /// A declined renewal waits to be paid: a new card pays it (and is saved) instead of a card check.
    case renewalUnpaid(invoiceID: UUID)
}
