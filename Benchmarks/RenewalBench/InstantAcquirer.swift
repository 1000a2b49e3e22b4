import Acquiring
import BillingCore
import Foundation
import Synchronization

/// Approves every token charge at once, in this process: the benchmark measures billing's side of
/// a renewal (claims, transactions, journal), not the acquirer's network. Answers under the
/// CloudPayments name so that seeded cards and invoices resolve to it. Everything else is refused.
final class InstantAcquirer: Acquirer {
    let name = "cloudpayments"
    private let nextTransaction = Atomic<Int64>(0)
    private let prefix = Int64(ProcessInfo.processInfo.processIdentifier) * 1_000_000_000

    func chargeSavedCard(_ request: SavedCardCharge) async throws -> ChargeOutcome {
        let number = nextTransaction.add(1, ordering: .relaxed).newValue
        return .succeeded(AcquirerPayment(
            transactionID: String(prefix + number), invoiceID: request.invoiceID.lowercased, accountID: accountID(for: request.userID),
            amount: request.amount, state: .succeeded, occurredAt: Date()
        ))
    }

    func accountID(for userID: UUID) -> String { AcquirerAccount.id(for: userID) }

    func browserCheckout(for request: CheckoutRequest) -> BrowserCheckout { BrowserCheckout(scriptURL: "", options: [:]) }

    func parseNotification(_ notification: IncomingNotification) async throws(NotificationError) -> PaymentNotification {
        throw .malformed("the benchmark acquirer sends no notifications")
    }

    func reply(to kind: NotificationKind, decision: CheckDecision) -> NotificationReply {
        NotificationReply(contentType: "application/json", body: "{}")
    }

    func refund(transactionID: String, amount: Money, idempotencyKey: String) async throws -> RefundOutcome {
        .rejected(message: "the benchmark acquirer does not refund")
    }

    func findPayment(invoiceID: UUID) async throws -> AcquirerPayment? { nil }

    func findPayment(transactionID: String) async throws -> AcquirerPayment? { nil }
}
