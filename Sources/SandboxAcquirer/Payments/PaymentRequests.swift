/// A payment with card data the cardholder just entered (`/payments/cards/charge|auth`, or the hosted form).
struct CardPaymentRequest: Sendable {
    let amount: Amount
    let currency: String
    let captureMode: CaptureMode
    let card: CardDetails
    let details: PaymentDetails
    /// The payer agreed to keep the card (`SaveCard`, or the widget's `saveCard` / `data.CloudPayments.recurrent`):
    /// only then does an approved payment with an `AccountId` leave a token.
    let saveCard: Bool
}

/// A merchant-initiated payment with a stored card (`/payments/tokens/charge`).
struct TokenPaymentRequest: Sendable {
    /// Who started the payment (`TrInitiatorCode`); card networks treat the two differently.
    enum Initiator: String, Sendable {
        case merchant = "0"
        case cardholder = "1"
    }

    let amount: Amount
    let currency: String
    let token: String
    let initiator: Initiator
    /// `PaymentScheduled`: a renewal on a schedule agreed with the cardholder.
    let isScheduled: Bool
    let details: PaymentDetails
}
