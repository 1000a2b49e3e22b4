import Foundation

/// A payment as the sandbox remembers it. Only the card's masked parts are kept here; the full number of a card
/// the payer asked to save lives in the token vault or, while 3-D Secure is pending, in `pendingChallenge`.
struct Transaction: Sendable {
    let id: Int64
    /// The authorised amount, lowered to the confirmed amount when a hold is confirmed for less.
    var amount: Amount
    let currency: String
    let captureMode: CaptureMode
    var status: TransactionStatus
    var reason: TransactionReason
    let card: CardSummary
    var token: String?
    let details: PaymentDetails
    let createdAt: Date
    var authorizedAt: Date?
    var confirmedAt: Date?
    var authCode: String?
    var rrn: String?
    var refunds: [Refund] = []
    var pendingChallenge: PendingChallenge?

    init(id: Int64, amount: Amount, currency: String, captureMode: CaptureMode, card: CardDetails, details: PaymentDetails, at date: Date) {
        self.id = id
        self.amount = amount
        self.currency = currency
        self.captureMode = captureMode
        self.status = .awaitingAuthentication
        self.reason = .approved
        self.card = CardSummary(card)
        self.details = details
        self.createdAt = date
    }

    var refundableAmount: Amount {
        refunds.reduce(amount) { $0 - $1.amount }
    }
}

/// Money returned from a completed payment; it gets its own transaction id, as in CloudPayments.
struct Refund: Sendable {
    let id: Int64
    let amount: Amount
    let createdAt: Date
}

/// What a payment waits for while the cardholder is at the 3-D Secure page: the card, when the payer asked to save
/// it, to issue a token afterwards, and the issuer's answer, which applies once authentication succeeds.
struct PendingChallenge: Sendable {
    let cardToSave: CardDetails?
    let decision: IssuerDecision
}
