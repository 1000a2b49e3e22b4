import Foundation

/// A notification (webhook) to the merchant: its type and its form fields in the order they are sent.
struct MerchantNotification: Sendable {
    /// The notification types the sandbox sends; each goes to `<notificationBaseURL>/<rawValue>`.
    enum Kind: String, Sendable {
        case check, pay, fail, confirm, refund, cancel
    }

    let kind: Kind
    let fields: [(key: String, value: String)]

    var transactionID: String {
        fields.first { $0.key == "TransactionId" }?.value ?? ""
    }

    /// Sent before authorisation; the merchant's answer decides whether the payment may go on.
    static func check(_ transaction: Transaction, at date: Date) -> MerchantNotification {
        MerchantNotification(kind: .check, fields: paymentFields(transaction, at: date) + [
            ("Status", transaction.captureMode.approvedStatus.rawValue),
            ("OperationType", "Payment"),
        ])
    }

    static func pay(_ transaction: Transaction, at date: Date) -> MerchantNotification {
        MerchantNotification(kind: .pay, fields: paymentFields(transaction, at: date) + [
            ("Status", transaction.status.rawValue),
            ("OperationType", "Payment"),
            ("Token", transaction.token ?? ""),
            ("AuthCode", transaction.authCode ?? ""),
            ("Rrn", transaction.rrn ?? ""),
            ("GatewayName", SandboxIdentity.gateway),
            ("TotalFee", "0.00"),
        ])
    }

    /// The reason as `Reason` and `ReasonCode` only: real Fail notifications carry no `CardHolderMessage` (that text is
    /// on the API's transaction), so a merchant must map the code to its own message.
    static func fail(_ transaction: Transaction, at date: Date) -> MerchantNotification {
        MerchantNotification(kind: .fail, fields: paymentFields(transaction, at: date) + [
            ("Status", transaction.status.rawValue),
            ("OperationType", "Payment"),
            ("Reason", transaction.reason.name),
            ("ReasonCode", String(transaction.reason.code)),
            ("Token", transaction.token ?? ""),
            ("Rrn", transaction.rrn ?? ""),
        ])
    }

    static func confirm(_ transaction: Transaction, at date: Date) -> MerchantNotification {
        MerchantNotification(kind: .confirm, fields: paymentFields(transaction, at: date) + [
            ("Status", transaction.status.rawValue),
            ("AuthCode", transaction.authCode ?? ""),
            ("Token", transaction.token ?? ""),
            ("Rrn", transaction.rrn ?? ""),
        ])
    }

    static func refund(_ refund: Refund, of payment: Transaction) -> MerchantNotification {
        MerchantNotification(kind: .refund, fields: [
            ("TransactionId", String(refund.id)),
            ("PaymentTransactionId", String(payment.id)),
            ("Amount", refund.amount.decimalText),
            ("DateTime", SandboxDates.notificationText(refund.createdAt)),
            ("OperationType", "Refund"),
            ("InvoiceId", payment.details.invoiceID ?? ""),
            ("AccountId", payment.details.accountID ?? ""),
            ("Email", payment.details.email ?? ""),
            ("Data", payment.details.jsonData ?? ""),
        ])
    }

    static func cancel(_ transaction: Transaction, at date: Date) -> MerchantNotification {
        MerchantNotification(kind: .cancel, fields: [
            ("TransactionId", String(transaction.id)),
            ("Amount", transaction.amount.decimalText),
            ("DateTime", SandboxDates.notificationText(date)),
            ("InvoiceId", transaction.details.invoiceID ?? ""),
            ("AccountId", transaction.details.accountID ?? ""),
            ("Email", transaction.details.email ?? ""),
            ("Data", transaction.details.jsonData ?? ""),
        ])
    }

    /// The fields Check, Pay, Fail and Confirm share.
    private static func paymentFields(_ transaction: Transaction, at date: Date) -> [(key: String, value: String)] {
        let details = transaction.details
        return [
            ("TransactionId", String(transaction.id)),
            ("Amount", transaction.amount.decimalText),
            ("Currency", transaction.currency),
            ("PaymentAmount", transaction.amount.decimalText),
            ("PaymentCurrency", transaction.currency),
            ("DateTime", SandboxDates.notificationText(date)),
            ("CardFirstSix", transaction.card.firstSix),
            ("CardLastFour", transaction.card.lastFour),
            ("CardType", transaction.card.brand.rawValue),
            ("CardExpDate", transaction.card.expiry),
            ("TestMode", "1"),
            ("InvoiceId", details.invoiceID ?? ""),
            ("AccountId", details.accountID ?? ""),
            ("SubscriptionId", ""),
            ("Name", transaction.card.holderName),
            ("Email", details.email ?? ""),
            ("IpAddress", details.ipAddress ?? ""),
            ("Issuer", SandboxIdentity.issuer),
            ("Description", details.description ?? ""),
            ("Data", details.jsonData ?? ""),
            ("PaymentMethod", ""),
        ]
    }
}
