import Foundation

/// Every transaction since the sandbox started, in memory; all changes go through here so concurrent calls stay consistent.
actor TransactionStore {
    private var nextID: Int64
    private var transactions: [Int64: Transaction] = [:]

    /// Ids start from the current time in milliseconds, so a restarted sandbox does not reuse ids
    /// that a merchant database may still hold from an earlier run.
    init(firstID: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        nextID = firstID
    }

    func allocateID() -> Int64 {
        defer { nextID += 1 }
        return nextID
    }

    func save(_ transaction: Transaction) {
        transactions[transaction.id] = transaction
    }

    func transaction(id: Int64) -> Transaction? {
        transactions[id]
    }

    func latestTransaction(invoiceID: String) -> Transaction? {
        transactions.values.filter { $0.details.invoiceID == invoiceID }.max { $0.id < $1.id }
    }

    /// Applies a change atomically and returns the transaction as it is afterwards; nothing is saved if `change` throws.
    func update<Value: Sendable>(
        id: Int64,
        _ change: @Sendable (inout Transaction) throws(RequestError) -> Value
    ) throws(RequestError) -> (Transaction, Value) {
        guard var transaction = transactions[id] else { throw .notFound }
        let value = try change(&transaction)
        transactions[id] = transaction
        return (transaction, value)
    }
}
