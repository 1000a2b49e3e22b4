import Acquiring
import BillingCore
import Foundation
import Storage

/// Settles a pending invoice by asking the acquirer what became of its payment, instead of
/// guessing: a viewer who closed the 3-D Secure window must not be stuck on "waiting" forever.
struct PaymentReconciler: Sendable {
    let services: BillingServices

    /// What the acquirer says about a pending invoice.
    enum Finding: Sendable, Equatable {
        /// The acquirer has the money or a decline: the invoice is settled now.
        case settled
        /// No completed payment: a new attempt cannot charge twice.
        case noCompletedPayment
        /// The acquirer could not be asked; nothing is known.
        case unknown
    }

    func reconcile(_ invoice: Invoice) async -> Finding {
        guard invoice.status == .pending, let acquirer = try? services.acquirers.acquirer(for: invoice) else { return .unknown }
        let payment: AcquirerPayment?
        do {
            payment = try await acquirer.findPayment(invoiceID: invoice.id)
        } catch {
            services.logger.warning("reconciliation failed", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            return .unknown
        }
        guard let payment, payment.succeeded || payment.decline != nil else { return .noCompletedPayment }
        let ledger = PaymentLedger(services: services)
        let actor = "reconciliation:\(acquirer.name)"
        do {
            try await services.database.journaledTransaction { connection, journal in
                if payment.succeeded {
                    let paid = PaymentLedger.Payment(invoiceID: invoice.id, transactionID: payment.transactionID, paidAt: Date(), card: nil, token: nil)
                    try await ledger.paymentSucceeded(paid, acquirer: acquirer.name, actor: actor, on: connection, journal: &journal)
                } else if let decline = payment.decline {
                    try await ledger.paymentFailed(invoiceID: invoice.id, transactionID: payment.transactionID, decline: decline, actor: actor, on: connection, journal: &journal)
                }
            }
            return .settled
        } catch {
            services.logger.error("could not apply a reconciled payment", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            return .unknown
        }
    }
}
