import Foundation

/// The facts about an invoice that decide what a successful attempt does to it.
public struct InvoiceForPayment: Sendable {
    public var amount: Money
    public var accountID: String
    public var status: InvoiceStatus
    /// The attempt that paid it, when it is paid.
    public var paidAttemptID: UUID?

    public init(amount: Money, accountID: String, status: InvoiceStatus, paidAttemptID: UUID?) {
        self.amount = amount
        self.accountID = accountID
        self.status = status
        self.paidAttemptID = paidAttemptID
    }
}

/// What a successful attempt does: pay its invoice, nothing (it already did), or go back in full.
public enum PaymentDisposition: Hashable, Sendable {
    case payInvoice
    case alreadyApplied
    case refund(RefundReason)
}

/// Decides the fate of money taken. The invoice is paid by its first successful attempt whose
/// amount, currency and account match; any other money taken is refunded, never kept silently.
public func dispose(attemptID: UUID, amount: Money, accountID: String?, invoice: InvoiceForPayment?) -> PaymentDisposition {
    guard let invoice else { return .refund(.unknownInvoice) }
    if invoice.paidAttemptID == attemptID { return .alreadyApplied }
    guard amount == invoice.amount else { return .refund(.amountMismatch) }
    guard accountID == invoice.accountID else { return .refund(.accountMismatch) }
    switch invoice.status {
    case .paid: return .refund(.duplicateCharge)
    case .canceled, .failed: return .refund(.invoiceClosed)
    case .created, .pending: return .payInvoice
    }
}

/// When access bought by a payment starts: the time the acquirer reports, when it is plausible
/// (not after we received it, not before the invoice existed); otherwise the time we received it.
public func accessStart(reported: Date?, invoiceCreatedAt: Date, receivedAt: Date) -> Date {
    guard let reported, reported <= receivedAt, reported >= invoiceCreatedAt.addingTimeInterval(-clockSkewAllowance) else { return receivedAt }
    return reported
}

/// How far an acquirer's clock may run behind ours before its times are not believed.
public let clockSkewAllowance: TimeInterval = 5 * 60
