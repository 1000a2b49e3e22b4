import Acquiring
import BillingCore
import Foundation
import Storage

/// Charges a saved card for an invoice already moved to `pending`, outside any row lock, and
/// records what the acquirer answers: the viewer's "pay with my saved card" and the worker's
/// renewals alike.
struct TokenCharge: Sendable {
    let services: BillingServices

    /// Whether the charge has an outcome we recorded, or the invoice stays pending until a
    /// notification or reconciliation says.
    enum Result: Sendable {
        case settled
        case outcomeUnknown
    }

    func charge(_ invoice: Invoice, token: String, description: String, initiatedByCardholder: Bool, idempotencyKey: String) async throws -> Result {
        let acquirer = try services.acquirers.acquirer(for: invoice)
        let charge = SavedCardCharge(
            invoiceID: invoice.id, userID: invoice.userID, amount: invoice.amount, token: token, description: description,
            email: invoice.email, initiatedByCardholder: initiatedByCardholder, idempotencyKey: idempotencyKey
        )
        let outcome: ChargeOutcome
        do {
            outcome = try await acquirer.chargeSavedCard(charge)
        } catch let error as AcquirerUnavailable {
            services.logger.warning("saved-card charge outcome unknown", metadata: ["invoice": "\(invoice.id)", "error": "\(error)"])
            return .outcomeUnknown
        } catch let error as AcquirerRequestRejected {
            // Nothing was created at the acquirer: the invoice is payable again, with the reason shown.
            try await services.database.journaledTransaction { connection, journal in
                guard var locked = try await services.invoices.lock(id: invoice.id, on: connection), locked.status == .pending else { return }
                locked.failure = Decline(code: 0, message: error.message)
                locked.status = .created
                try await services.invoices.update(locked, on: connection)
                journal.recordTransition(entity: "invoice", id: locked.id, from: InvoiceStatus.pending.rawValue, to: locked.status.rawValue, event: InvoiceEvent.paymentFailed.rawValue, actor: "acquirer:\(acquirer.name)")
            }
            return .settled
        }

        let ledger = PaymentLedger(services: services)
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
        if case .requiresAuthentication = outcome { return .outcomeUnknown }
        return .settled
    }
}
