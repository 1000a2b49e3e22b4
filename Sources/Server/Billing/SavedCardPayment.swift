import Acquiring
import BillingCore
import Foundation
import Storage

/// Pays an open invoice with a card the viewer saved earlier: a cardholder-initiated token charge.
struct SavedCardPayment: Sendable {
    let services: BillingServices

    func pay(invoiceID: UUID, paymentMethodID: UUID) async throws {
        let ledger = PaymentLedger(services: services)
        // The invoice moves to pending and commits before the acquirer is called, so that its
        // Check (which locks the same row) does not wait on us.
        let (invoice, token) = try await services.database.journaledTransaction { connection, journal -> (Invoice, String) in
            guard var invoice = try await services.invoices.lock(id: invoiceID, on: connection) else {
                throw Problem.notFound("No invoice \(invoiceID.lowercased).")
            }
            guard invoice.status.isOpen else {
                throw Problem(.conflict, type: "invoice-not-payable", title: "Invoice not payable", detail: "The invoice is \(invoice.status.rawValue).")
            }
            guard let token = try await services.paymentMethods.token(methodID: paymentMethodID, userID: invoice.userID, on: connection) else {
                throw Problem.invalid("payment_method_id is not one of your saved cards.")
            }
            invoice.paymentMethodID = paymentMethodID
            try await ledger.chargeStarted(invoice: &invoice, actor: "user:\(invoice.userID.lowercased)", on: connection, journal: &journal)
            return (invoice, token)
        }

        let acquirer = try services.acquirers.acquirer(for: invoice)
        let plan = try await services.database.read { try await services.plans.plan(id: invoice.planID, on: $0) }
        let charge = SavedCardCharge(
            invoiceID: invoice.id, userID: invoice.userID, amount: invoice.amount, token: token,
            description: plan?.title ?? "Movix", email: invoice.email, initiatedByCardholder: true,
            // One charge per invoice, however often the viewer presses Pay.
            idempotencyKey: "charge-\(invoice.id.lowercased)"
        )
        let outcome: ChargeOutcome
        do {
            outcome = try await acquirer.chargeSavedCard(charge)
        } catch let error as AcquirerUnavailable {
            // Unknown outcome: the invoice stays pending until a notification or reconciliation says.
            services.logger.warning("saved-card charge outcome unknown", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            return
        }

        let actor = "acquirer:\(acquirer.name)"
        try await services.database.journaledTransaction { connection, journal in
            switch outcome {
            case .succeeded(let payment):
                let paid = PaymentLedger.Payment(invoiceID: invoice.id, transactionID: payment.transactionID, paidAt: Date(), card: nil, token: nil)
                try await ledger.paymentSucceeded(paid, acquirer: acquirer.name, actor: actor, on: connection, journal: &journal)
            case .declined(let payment):
                let decline = payment.decline ?? Decline(code: 0, message: DeclineReason.forCode(0).russian)
                try await ledger.paymentFailed(invoiceID: invoice.id, transactionID: payment.transactionID, decline: decline, actor: actor, on: connection, journal: &journal)
            case .requiresAuthentication:
                // Saved-card charges carry no 3-D Secure branch; the notification will settle it.
                break
            }
        }
    }
}
