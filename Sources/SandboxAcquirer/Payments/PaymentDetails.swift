/// The merchant's description of a payment, carried unchanged onto the transaction and into notifications.
struct PaymentDetails: Sendable {
    var invoiceID: String?
    var accountID: String?
    var description: String?
    var email: String?
    /// Arbitrary JSON, kept as text: CloudPayments echoes it back as a string (`JsonData`, notification `Data`).
    var jsonData: String?
    var ipAddress: String?
}
