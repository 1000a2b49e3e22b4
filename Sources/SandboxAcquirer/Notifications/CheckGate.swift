import Foundation
import Logging

/// Asks the merchant, through the synchronous Check notification, whether a payment may be authorised.
struct CheckGate: Sendable {
    let sender: NotificationSender
    let logger: Logger

    /// CloudPayments waits this long for the merchant before treating the Check as unanswered.
    private static let timeout: Duration = .seconds(10)

    /// The reason to decline the payment with, or nil to go on.
    func refusal(of transaction: Transaction) async -> TransactionReason? {
        guard sender.isEnabled else { return nil }
        do {
            let code = try await sender.send(.check(transaction, at: Date()), timeout: Self.timeout)
            let refusal = Self.refusal(forCode: code)
            if let refusal {
                logger.info("Check refused", metadata: ["transaction": "\(transaction.id)", "code": "\(code)", "reason": "\(refusal.name)"])
            }
            return refusal
        } catch {
            // An unreachable or confused merchant must not get payments it never agreed to.
            logger.warning("Check went unanswered", metadata: ["transaction": "\(transaction.id)", "error": "\(error)"])
            return .notAccepted
        }
    }

    private static func refusal(forCode code: Int) -> TransactionReason? {
        switch code {
        case 0: nil
        case 10: .invalidInvoiceId
        case 11: .invalidAccountId
        case 12: .invalidAmount
        case 20: .outOfDate
        default: .notAccepted
        }
    }
}
