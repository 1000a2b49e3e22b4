import BillingCore
import Foundation

/// The JSON bodies of outbox events, one encoder for all, keys sorted so equal events are equal text.
enum EventPayload {
    static func invoice(_ invoice: Invoice) -> String {
        json([
            "invoice_id": invoice.id.lowercased, "user_id": invoice.userID.lowercased, "subscription_id": invoice.subscriptionID.lowercased,
            "status": invoice.status.rawValue, "amount": String(invoice.amount.amount), "currency": invoice.amount.currency.rawValue,
            "failure_code": invoice.failure.map { String($0.code) } ?? "",
        ])
    }

    static func subscription(_ subscription: Subscription) -> String {
        json([
            "subscription_id": subscription.id.lowercased, "user_id": subscription.userID.lowercased, "plan_id": subscription.planID.lowercased,
            "status": subscription.status.rawValue,
            "current_period_end": subscription.currentPeriod.map { $0.end.formatted(.iso8601) } ?? "",
        ])
    }

    /// A subscription as cancelled: what comes back and until when access runs.
    static func canceled(_ subscription: Subscription, _ cancellation: Cancellation) -> String {
        json([
            "subscription_id": subscription.id.lowercased, "user_id": subscription.userID.lowercased, "plan_id": subscription.planID.lowercased,
            "status": subscription.status.rawValue, "cancellation_id": cancellation.id.lowercased, "rule": cancellation.rule.rawValue,
            "refund_amount": String(cancellation.refund.amount), "currency": cancellation.refund.currency.rawValue,
            "access_until": cancellation.accessUntil.formatted(.iso8601), "canceled_at": cancellation.requestedAt.formatted(.iso8601),
        ])
    }

    static func attempt(_ attempt: PaymentAttempt, reason: RefundReason) -> String {
        json([
            "attempt_id": attempt.id.lowercased, "acquirer": attempt.acquirer, "transaction_id": attempt.transactionID,
            "invoice_id": attempt.claimedInvoiceID ?? "", "amount": String(attempt.amount.amount), "currency": attempt.amount.currency.rawValue,
            "reason": reason.rawValue,
        ])
    }

    static func refund(_ refund: Refund) -> String {
        json([
            "refund_id": refund.id.lowercased, "attempt_id": refund.attemptID.lowercased, "invoice_id": refund.invoiceID?.lowercased ?? "",
            "status": refund.status.rawValue, "reason": refund.reason.rawValue,
            "amount": String(refund.amount.amount), "currency": refund.amount.currency.rawValue,
            "failure_message": refund.failureMessage ?? "", "cancellation_id": refund.cancellationID?.lowercased ?? "",
        ])
    }

    private static func json(_ fields: [String: String]) -> String {
        let data = (try? encoder.encode(fields)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()
}
