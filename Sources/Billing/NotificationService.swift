import Acquiring
import BillingCore
import Foundation
import PostgresNIO
import Storage

/// Receives acquirer notifications: verify, log, apply, answer as the acquirer's protocol wants.
public struct NotificationService: Sendable {
    let services: BillingServices

    public init(services: BillingServices) {
        self.services = services
    }


    public func handle(_ incoming: IncomingNotification, acquirerName: String) async throws -> NotificationReply {
        guard let acquirer = services.acquirers.acquirer(named: acquirerName) else {
            throw BillingError.unknownAcquirer(acquirerName)
        }
        let notification: PaymentNotification
        do {
            notification = try await acquirer.parseNotification(incoming)
        } catch .badSignature {
            // Unsigned traffic is not the acquirer's: a log line, nothing in the database.
            services.logger.warning("rejected notification with a bad signature", metadata: ["acquirer": "\(acquirerName)", "kind": "\(incoming.kind)"])
            throw BillingError.badSignature
        } catch .malformed(let reason) {
            await services.acquiringLog.record(AcquiringLogEntry(
                acquirer: acquirerName, direction: .notification, operation: incoming.kind,
                message: "malformed: \(reason)", payload: "[unparsed body, \(incoming.body.count) bytes]"
            ))
            return try unusable(kind: incoming.kind, reason: reason, acquirer: acquirer)
        }

        var entry = AcquiringLogEntry(
            acquirer: acquirerName, direction: .notification, operation: notification.kind.rawValue,
            transactionID: notification.transactionID, invoiceID: notification.invoiceID,
            code: notification.decline.map { String($0.code) }, message: notification.decline?.message,
            payload: notification.loggablePayload
        )
        do {
            let (decision, refunds) = try await services.database.journaledTransaction { connection, journal in
                let outcome = try await apply(notification, acquirer: acquirer, on: connection, journal: &journal)
                entry.code = entry.code ?? String(outcome.decision.rawValue)
                journal.log(entry)
                return outcome
            }
            RefundEngine(services: services).submitInBackground(refunds)
            return acquirer.reply(to: notification.kind, decision: decision)
        } catch let error as DatabaseUnavailable {
            // Nowhere to keep it: the process log has it, and the acquirer sends it again.
            services.logger.warning("notification not applied: the database is unavailable", metadata: [
                "acquirer": "\(acquirerName)", "kind": "\(notification.kind.rawValue)", "transaction": "\(notification.transactionID)", "error": "\(error)",
            ])
            throw error
        } catch {
            // The notification is kept even when applying it failed; the acquirer will send it again.
            entry.message = "not applied: \(error)"
            await services.acquiringLog.record(entry)
            if case BillingError.malformedNotification(let reason) = error {
                return try unusable(kind: incoming.kind, reason: reason, acquirer: acquirer)
            }
            throw error
        }
    }

    /// The answer to a signed notification we cannot use (its log row is written): the same body
    /// would come back up to 100 times, so it is answered, not refused. A Check is declined (the
    /// payment does not happen); any other kind is acknowledged: its log row and an error line keep
    /// it, and a payment whose Check we accepted has a started attempt that reconciliation settles
    /// by asking the acquirer.
    private func unusable(kind name: String, reason: String, acquirer: any Acquirer) throws -> NotificationReply {
        guard let kind = NotificationKind(rawValue: name) else { throw BillingError.malformedNotification(reason) }
        services.logger.error("signed notification cannot be used; answered per protocol", metadata: ["kind": "\(name)", "reason": "\(reason)"])
        return acquirer.reply(to: kind, decision: kind == .check ? .notAccepted : .accept)
    }

    /// Applies a verified notification; returns the answer and the refunds it opened.
    private func apply(_ notification: PaymentNotification, acquirer: any Acquirer, on connection: PostgresConnection, journal: inout Journal) async throws -> (decision: CheckDecision, refunds: [UUID]) {
        let actor = "acquirer:\(acquirer.name)"
        let ledger = PaymentLedger(services: services)
        let report = AttemptReport(
            transactionID: notification.transactionID, invoiceID: notification.invoiceID, accountID: notification.accountID,
            amount: notification.amount, card: notification.card, token: notification.token, occurredAt: notification.occurredAt
        )
        switch notification.kind {
        case .check:
            let claim = PaymentClaim(accountID: notification.accountID, amount: notification.amount)
            let invoiceID = notification.invoiceID.flatMap(UUID.init(uuidString:))
            let decision = try await ledger.check(transactionID: notification.transactionID, invoiceID: invoiceID, claim: claim, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
            return (decision, [])
        case .pay where notification.isHold:
            try await ledger.attemptHeld(report, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
        case .pay, .confirm:
            return (.accept, try await ledger.attemptSucceeded(report, acquirer: acquirer, actor: actor, on: connection, journal: &journal))
        case .fail:
            let decline = notification.decline ?? Decline(code: 0, message: DeclineReason.forCode(0).russian)
            try await ledger.attemptDeclined(report, decline: decline, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
        case .refund:
            try await RefundEngine(services: services).refundNotified(
                refundTransactionID: notification.transactionID, paymentTransactionID: notification.paymentTransactionID,
                amount: notification.amount, acquirer: acquirer.name, actor: actor, on: connection, journal: &journal
            )
        case .cancel:
            // A voided hold: the attempt ends without money.
            try await ledger.attemptVoided(transactionID: notification.transactionID, acquirer: acquirer, actor: actor, on: connection, journal: &journal)
        case .recurrent:
            // Logged above. We keep no acquirer-side subscriptions.
            break
        }
        // Every notification but Check is acknowledged once it is recorded, whatever it changed.
        return (.accept, [])
    }
}
