import BillingCore
import Foundation
import Storage

/// Pays an open invoice with a card the viewer saved earlier: a cardholder-initiated token charge.
public struct SavedCardPayment: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }

    public func pay(invoiceID: UUID, paymentMethodID: UUID) async throws {
        let ledger = PaymentLedger(services: services)
        // The invoice moves to pending and commits before the acquirer is called, so that its
        // Check (which locks the same row) does not wait on us.
        let (invoice, token, endedAttempts) = try await services.database.journaledTransaction { connection, journal -> (Invoice, String, Int) in
            guard var invoice = try await services.invoices.lock(id: invoiceID, on: connection) else {
                throw BillingError.invoiceNotFound(invoiceID.lowercased)
            }
            guard invoice.status.isOpen else {
                throw BillingError.invoiceNotPayable(invoice.status)
            }
            // A renewal is pending while the worker's charge of it has no outcome: another
            // charge now could take the money twice.
            guard !(invoice.kind == .renewal && invoice.status == .pending) else {
                throw BillingError.paymentInProgress(invoiceID: invoice.id)
            }
            guard let token = try await services.paymentMethods.token(methodID: paymentMethodID, userID: invoice.userID, on: connection) else {
                throw BillingError.unknownPaymentMethod
            }
            invoice.paymentMethodID = paymentMethodID
            let ended = try await services.attempts.list(invoiceID: invoice.id, on: connection).filter { $0.status == .declined || $0.status == .abandoned }.count
            try await ledger.chargeStarted(invoice: &invoice, actor: "user:\(invoice.userID.lowercased)", on: connection, journal: &journal)
            return (invoice, token, ended)
        }

        let plan = try await services.database.read { try await services.plans.plan(id: invoice.planID, on: $0) }
        _ = try await TokenCharge(services: services).charge(
            invoice, token: token, description: plan?.title ?? "Movix", initiatedByCardholder: true,
            // One charge per invoice and try, however often (and with whichever card) the viewer
            // presses Pay meanwhile; after a decline (one more ended attempt) the next press is a
            // new charge, not a replay of the decline.
            idempotencyKey: "charge-\(invoice.id.lowercased)-\(endedAttempts)"
        )
    }
}
