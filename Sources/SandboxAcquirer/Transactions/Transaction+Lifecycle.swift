import Foundation

/// The state changes a transaction allows; each refusal carries the message the API answers with.
extension Transaction {
    mutating func approve(at date: Date, issuedToken: String?) {
        status = captureMode.approvedStatus
        reason = .approved
        authorizedAt = date
        confirmedAt = captureMode == .charge ? date : nil
        token = issuedToken ?? token
        authCode = RandomText.alphanumeric(6)
        rrn = RandomText.digits(12)
        pendingChallenge = nil
    }

    mutating func decline(_ reason: TransactionReason) {
        status = .declined
        self.reason = reason
        pendingChallenge = nil
    }

    mutating func awaitAuthentication(_ challenge: PendingChallenge) {
        status = .awaitingAuthentication
        pendingChallenge = challenge
    }

    /// Hands the pending 3-D Secure state over exactly once, so a replayed `post3ds` cannot settle a payment twice.
    mutating func takePendingChallenge() throws(RequestError) -> PendingChallenge {
        guard status == .awaitingAuthentication, let challenge = pendingChallenge else {
            throw RequestError("Transaction is not awaiting 3-D Secure authentication")
        }
        pendingChallenge = nil
        return challenge
    }

    /// Captures a hold, possibly for less than was authorised (never more).
    mutating func confirm(_ confirmedAmount: Amount, at date: Date) throws(RequestError) {
        guard status == .authorized else { throw RequestError("Only an authorized transaction can be confirmed") }
        guard confirmedAmount <= amount else { throw RequestError("Amount exceeds the authorized amount") }
        amount = confirmedAmount
        status = .completed
        confirmedAt = date
    }

    mutating func void() throws(RequestError) {
        guard status == .authorized else { throw RequestError("Only an authorized transaction can be voided") }
        status = .cancelled
    }

    /// Refunds part or all of what is left; the sum of refunds never exceeds the amount paid.
    mutating func refund(_ refundAmount: Amount, refundID: Int64, at date: Date) throws(RequestError) -> Refund {
        guard status == .completed else { throw RequestError("Only a completed transaction can be refunded") }
        guard refundAmount <= refundableAmount else {
            throw RequestError("Refund amount exceeds the amount left to refund (\(refundableAmount.decimalText))")
        }
        let refund = Refund(id: refundID, amount: refundAmount, createdAt: date)
        refunds.append(refund)
        return refund
    }
}
