import Acquiring
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
            guard let token = try await services.paymentMethods.token(methodID: paymentMethodID, userID: invoice.userID, on: connection) else {
                throw BillingError.unknownPaymentMethod
            }
            invoice.paymentMethodID = paymentMethodID
            let ended = try await services.attempts.list(invoiceID: invoice.id, on: connection).filter { $0.status == .declined || $0.status == .abandoned }.count
            try await ledger.chargeStarted(invoice: &invoice, actor: "user:\(invoice.userID.lowercased)", on: connection, journal: &journal)
            return (invoice, token, ended)
        }

        let acquirer = try services.acquirers.acquirer(for: invoice)
        let plan = try await services.database.read { try await services.plans.plan(id: invoice.planID, on: $0) }
        let charge = SavedCardCharge(
            invoiceID: invoice.id, userID: invoice.userID, amount: invoice.amount, token: token,
            description: plan?.title ?? "Movix", email: invoice.email, initiatedByCardholder: true,
            // One charge per invoice and try, however often (and with whichever card) the viewer
            // presses Pay meanwhile; after a decline (one more ended attempt) the next press is a
            // new charge, not a replay of the decline.
            idempotencyKey: "charge-\(invoice.id.lowercased)-\(endedAttempts)"
        )
        let outcome: ChargeOutcome
        do {
            outcome = try await acquirer.chargeSavedCard(charge)
        } catch let error as AcquirerUnavailable {
            // Unknown outcome: the invoice stays pending until a notification or reconciliation says.
            services.logger.warning("saved-card charge outcome unknown", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            return
        } catch let error as AcquirerRequestRejected {
            // Nothing was created at the acquirer: the invoice is payable again, with the reason shown.
            try await services.database.journaledTransaction { connection, journal in
                guard var locked = try await services.invoices.lock(id: invoice.id, on: connection), locked.status == .pending else { return }
                locked.failure = Decline(code: 0, message: error.message)
                locked.status = .created
                try await services.invoices.update(locked, on: connection)
                journal.recordTransition(entity: "invoice", id: locked.id, from: InvoiceStatus.pending.rawValue, to: locked.status.rawValue, event: InvoiceEvent.paymentFailed.rawValue, actor: "acquirer:\(acquirer.name)")
            }
            return
        }

        let actor = "acquirer:\(acquirer.name)"
        let refunds = try await services.database.journaledTransaction { connection, journal -> [UUID] in
            switch outcome {
            case .succeeded(let payment):
                return try await ledger.attemptSucceeded(AttemptReport(payment), acquirer: acquirer, actor: actor, on: connection, journal: &journal)
            case .declined(let payment):
                let decline = payment.decline ?? Decline(code: 0, message: DeclineReason.forCode(0).russian)
                try await ledger.attemptDeclined(AttemptReport(payment), decline: decline, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
                return []
            case .requiresAuthentication:
                // Saved-card charges carry no 3-D Secure branch; the notification will settle it.
                return []
            }
        }
        RefundEngine(services: services).submitInBackground(refunds)
    }
}
