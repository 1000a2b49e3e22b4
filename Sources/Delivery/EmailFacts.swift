import BillingCore
import Foundation

/// What an email says, gathered from its event's snapshot and the rows it names.
struct EmailFacts: Sendable {
    var plan: Plan?
    var period: BillingPeriod?
    var amount: Money?
    var card: Card?
    var failure: Decline?
    var invoiceKind: Invoice.Kind?
    /// Until when the viewer can watch.
    var accessUntil: Date?
    /// When the next charge is made (a renewal notice).
    var chargeAt: Date?
    /// What a cancellation gives back, and when it was made.
    var refund: Money?
    var canceledAt: Date?
    /// When the subscription ended.
    var endedAt: Date?
    var refundReason: RefundReason?

    /// The card an email names: brand and last four digits, never more.
    struct Card: Sendable {
        var brand: String?
        var lastFour: String

        var label: String { "\(brand.map { $0 + " " } ?? "")•••• \(lastFour)" }
    }
}
