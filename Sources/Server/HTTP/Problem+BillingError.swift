import Billing
import Foundation

extension Problem {
    /// The problem document a use case's refusal becomes.
    init(_ error: BillingError) {
        switch error {
        case .planNotOnSale(let plan):
            self = .invalid("plan_id \(Problem.quoted(plan)) is not a plan on sale; see GET /v1/plans")
        case .alreadySubscribed(let status, let until):
            let end = until.map { " until \($0.formatted(.iso8601))" } ?? ""
            self.init(.conflict, type: "already-subscribed", title: "Already subscribed", detail: "You already have \(status == .active ? "an" : "a") \(status.rawValue) subscription\(end).")
        case .paymentInProgress(let invoiceID):
            self.init(.conflict, type: "payment-in-progress", title: "A payment is in progress", detail: "A payment for invoice \(invoiceID.lowercased) is being processed; wait for its result.")
        case .invoiceNotFound(let id):
            self = .notFound("No invoice \(id).")
        case .invoiceNotPayable(let status):
            self.init(.conflict, type: "invoice-not-payable", title: "Invoice not payable", detail: "The invoice is \(status.rawValue).")
        case .unknownPaymentMethod:
            self = .invalid("payment_method_id is not one of your saved cards.")
        case .unknownAcquirer(let name):
            self = .notFound("No acquirer named \(name)")
        case .badSignature:
            self.init(.unauthorized, type: "bad-signature", title: "Bad signature", detail: "The notification signature does not verify.")
        case .malformedNotification(let reason):
            self = .badRequest("Malformed notification: \(reason)")
        case .invoiceNotRefundable(let status):
            self.init(.conflict, type: "invoice-not-refundable", title: "Invoice not refundable", detail: "Only a paid invoice can be refunded; this one is \(status.rawValue).")
        case .idempotencyKeyReused:
            self.init(.unprocessableContent, type: "idempotency-key-reused", title: "Idempotency key reused", detail: "This Idempotency-Key was used with a different request.")
        case .noSubscription:
            self = .notFound("You have no subscription.")
        case .subscriptionNotCancelable(let status):
            self.init(.conflict, type: "subscription-not-cancelable", title: "Subscription not cancelable", detail: "Only an active subscription can be cancelled or have its renewal changed; yours is \(status.rawValue).")
        case .quoteChanged(let refund):
            self.init(.conflict, type: "quote-changed", title: "The quote changed", detail: "Cancelling now refunds \(refund) (\(refund.amount) minor units); see GET /v1/subscription/cancellation and confirm again.")
        case .cannotResume(let reason):
            self.init(.conflict, type: "cannot-resume", title: "Cannot resume", detail: reason)
        case .refundInProgress:
            self.init(.conflict, type: "refund-in-progress", title: "A refund is in progress", detail: "A refund of this subscription's payment is waiting for the acquirer; what cancelling gives back depends on it. Try again in a few minutes.", headers: [.retryAfter: "60"])
        case .noCardToRenew:
            self.init(.conflict, type: "no-card-to-renew", title: "No card to renew with", detail: "Automatic renewal needs a card saved with a payment; pay once with a card and allow it to be saved.")
        case .renewalUnpaid(let invoiceID):
            self.init(.conflict, type: "renewal-unpaid", title: "A renewal is unpaid", detail: "Pay invoice \(invoiceID.lowercased) (GET /v1/invoices/\(invoiceID.lowercased) gives its payment_url) with the new card: that saves it and renews the subscription.")
        case .refundExceedsPayment(let refundable):
            self.init(.unprocessableContent, type: "refund-exceeds-payment", title: "Refund exceeds what is left", detail: "At most \(refundable) (\(refundable.amount) minor units) of this payment can still be refunded.")
        }
    }
}
