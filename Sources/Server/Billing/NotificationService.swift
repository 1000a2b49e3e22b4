import Acquiring
import BillingCore
import Foundation
import PostgresNIO
import Storage

/// Receives acquirer notifications: verify, log, apply, answer as the acquirer's protocol wants.
struct NotificationService: Sendable {
    let services: BillingServices
    var ledger: PaymentLedger { PaymentLedger(services: services) }

    func handle(_ incoming: IncomingNotification, acquirerName: String) async throws -> NotificationReply {
        guard let acquirer = services.acquirers.acquirer(named: acquirerName) else {
            throw Problem.notFound("No acquirer named \(acquirerName)")
        }
        let notification: PaymentNotification
        do {
            notification = try await acquirer.parseNotification(incoming)
        } catch .badSignature {
            // Unsigned traffic is not the acquirer's: a log line, nothing in the database.
            services.logger.warning("rejected notification with a bad signature", metadata: ["acquirer": "\(acquirerName)", "kind": "\(incoming.kind)"])
            throw Problem(.unauthorized, type: "bad-signature", title: "Bad signature", detail: "The notification signature does not verify.")
        } catch .malformed(let reason) {
            await services.acquiringLog.record(AcquiringLogEntry(
                acquirer: acquirerName, direction: .notification, operation: incoming.kind,
                message: "malformed: \(reason)", payload: "[unparsed body, \(incoming.body.count) bytes]"
            ))
            throw Problem.badRequest("Malformed notification: \(reason)")
        }

        var entry = AcquiringLogEntry(
            acquirer: acquirerName, direction: .notification, operation: notification.kind.rawValue,
            transactionID: notification.transactionID, invoiceID: notification.invoiceID,
            code: notification.decline.map { String($0.code) }, message: notification.decline?.message,
            payload: notification.loggablePayload
        )
        do {
            let decision = try await services.database.journaledTransaction { connection, journal in
                let decision = try await apply(notification, acquirer: acquirer.name, on: connection, journal: &journal)
                entry.code = entry.code ?? String(decision.rawValue)
                journal.log(entry)
                return decision
            }
            return acquirer.reply(to: notification, decision: decision)
        } catch {
            // The notification is kept even when applying it failed; the acquirer will send it again.
            entry.message = "not applied: \(error)"
            await services.acquiringLog.record(entry)
            throw error
        }
    }

    private func apply(_ notification: PaymentNotification, acquirer: String, on connection: PostgresConnection, journal: inout Journal) async throws -> CheckDecision {
        let invoiceID = notification.invoiceID.flatMap(UUID.init(uuidString:))
        let actor = "acquirer:\(acquirer)"
        switch notification.kind {
        case .check:
            let claim = PaymentClaim(accountID: notification.accountID, amount: notification.amount)
            return try await ledger.check(invoiceID: invoiceID, claim: claim, actor: actor, on: connection, journal: &journal)
        case .pay, .confirm:
            if let invoiceID {
                let payment = PaymentLedger.Payment(
                    invoiceID: invoiceID, transactionID: notification.transactionID,
                    paidAt: notification.occurredAt ?? Date(), card: notification.card, token: notification.token
                )
                try await ledger.paymentSucceeded(payment, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
            }
        case .fail:
            if let invoiceID, let decline = notification.decline {
                try await ledger.paymentFailed(invoiceID: invoiceID, transactionID: notification.transactionID, decline: decline, actor: actor, on: connection, journal: &journal)
            }
        case .refund, .cancel, .recurrent:
            // Logged above; refunds and voids are initiated by billing itself and reconciled there.
            break
        }
        // Every notification but Check is acknowledged once it is recorded, whatever it changed.
        return .accept
    }
}
