import Foundation

/// What a merchant does to a payment after authorisation: capture a hold, release it, or return money.
/// Each change is followed by its notification.
struct TransactionOperations: Sendable {
    let transactions: TransactionStore
    let dispatcher: NotificationDispatcher
    let faults: FaultSwitchboard

    func confirm(transactionID: Int64, amount: Amount) async throws(RequestError) {
        let now = Date()
        let (transaction, _) = try await transactions.update(id: transactionID) { transaction throws(RequestError) in
            try transaction.confirm(amount, at: now)
        }
        dispatcher.enqueue(.confirm(transaction, at: now))
    }

    func void(transactionID: Int64) async throws(RequestError) {
        let (transaction, _) = try await transactions.update(id: transactionID) { transaction throws(RequestError) in
            try transaction.void()
        }
        dispatcher.enqueue(.cancel(transaction, at: Date()))
    }

    func refund(transactionID: Int64, amount: Amount) async throws(RequestError) -> Refund {
        // An injected refusal comes before anything is touched: no refund, no notification, only the answer.
        if let message = await faults.current.refundDecline {
            throw RequestError(message)
        }
        // Allocated up front because the store's update is synchronous; a refused refund just leaves a gap in the ids.
        let refundID = await transactions.allocateID()
        let now = Date()
        let (payment, refund) = try await transactions.update(id: transactionID) { transaction throws(RequestError) in
            try transaction.refund(amount, refundID: refundID, at: now)
        }
        dispatcher.enqueue(.refund(refund, of: payment))
        return refund
    }
}
