import Foundation
import Logging

/// Authorises payments the way CloudPayments does: card checks, the merchant's Check, 3-D Secure when the card asks
/// for it, then the issuer's answer; every settled payment is followed by a Pay or Fail notification.
struct PaymentProcessor: Sendable {
    let transactions: TransactionStore
    let vault: TokenVault
    let checkGate: CheckGate
    let dispatcher: NotificationDispatcher
    let endpoint: SandboxEndpoint
    let logger: Logger

    func pay(_ request: CardPaymentRequest) async -> PaymentOutcome {
        var transaction = Transaction(
            id: await transactions.allocateID(), amount: request.amount, currency: request.currency,
            captureMode: request.captureMode, card: request.card, details: request.details, at: Date()
        )
        logger.info("Card payment", metadata: [
            "transaction": "\(transaction.id)", "card": "\(request.card.number.masked)",
            "amount": "\(request.amount.decimalText) \(request.currency)", "mode": "\(request.captureMode.rawValue)",
        ])
        if let rejection = request.card.rejection(at: Date()) {
            return await decline(transaction, rejection)
        }
        // The real service asks the merchant before sending the cardholder to 3-D Secure.
        if let refusal = await checkGate.refusal(of: transaction) {
            return await decline(transaction, refusal)
        }
        let behaviour = TestCards.behaviour(for: request.card)
        // A card the payer did not agree to keep is not kept, not even while 3-D Secure is pending.
        let cardToSave = request.saveCard ? request.card : nil
        guard behaviour.requiresThreeDS else {
            return await settle(transaction, decision: behaviour.byCryptogram, issuingTokenFor: cardToSave)
        }
        transaction.awaitAuthentication(PendingChallenge(cardToSave: cardToSave, decision: behaviour.byCryptogram))
        await transactions.save(transaction)
        return .challenge(transaction, ThreeDSChallenge(transactionID: transaction.id, endpoint: endpoint))
    }

    /// Finishes a payment that waited for 3-D Secure, given the `PaRes` the ACS page produced.
    func completeAuthentication(transactionID: Int64, paRes: String) async throws(RequestError) -> PaymentOutcome {
        guard let result = AuthenticationResult(paRes: paRes), result.transactionID == transactionID else {
            throw RequestError("PaRes is invalid")
        }
        let (transaction, challenge) = try await transactions.update(id: transactionID) { transaction throws(RequestError) in
            try transaction.takePendingChallenge()
        }
        switch result.decision {
        case .reject: return await decline(transaction, .authenticationFailed)
        case .confirm: return await settle(transaction, decision: challenge.decision, issuingTokenFor: challenge.cardToSave)
        }
    }

    /// A payment with a stored card: no cardholder is present, so there is no 3-D Secure.
    func pay(_ request: TokenPaymentRequest) async throws(RequestError) -> PaymentOutcome {
        guard let stored = await vault.card(token: request.token) else { throw RequestError("Token not found") }
        var transaction = Transaction(
            id: await transactions.allocateID(), amount: request.amount, currency: request.currency,
            captureMode: .charge, card: stored.card, details: request.details, at: Date()
        )
        transaction.token = request.token
        logger.info("Token payment", metadata: [
            "transaction": "\(transaction.id)", "card": "\(stored.card.number.masked)",
            "amount": "\(request.amount.decimalText) \(request.currency)",
            "initiator": "\(request.initiator)", "scheduled": "\(request.isScheduled)",
        ])
        if let rejection = stored.card.rejection(at: Date()) {
            return await decline(transaction, rejection)
        }
        if let refusal = await checkGate.refusal(of: transaction) {
            return await decline(transaction, refusal)
        }
        return await settle(transaction, decision: TestCards.behaviour(for: stored.card).byToken, issuingTokenFor: nil)
    }

    private func settle(_ transaction: Transaction, decision: IssuerDecision, issuingTokenFor card: CardDetails?) async -> PaymentOutcome {
        switch decision {
        case .approve: await approve(transaction, issuingTokenFor: card)
        case .decline(let reason): await decline(transaction, reason)
        }
    }

    /// An approved card payment leaves a token for renewals when the payer asked to save the card and there is an
    /// `AccountId` to keep it under (`card` is nil otherwise); a token payment already has one.
    private func approve(_ transaction: Transaction, issuingTokenFor card: CardDetails?) async -> PaymentOutcome {
        var transaction = transaction
        var issuedToken: String?
        if let card, let accountID = transaction.details.accountID {
            issuedToken = await vault.token(for: card, accountID: accountID)
        }
        transaction.approve(at: Date(), issuedToken: issuedToken)
        await transactions.save(transaction)
        dispatcher.enqueue(.pay(transaction, at: Date()))
        logger.info("Payment approved", metadata: ["transaction": "\(transaction.id)", "status": "\(transaction.status.rawValue)"])
        return .approved(transaction)
    }

    private func decline(_ transaction: Transaction, _ reason: TransactionReason) async -> PaymentOutcome {
        var transaction = transaction
        transaction.decline(reason)
        await transactions.save(transaction)
        dispatcher.enqueue(.fail(transaction, at: Date()))
        logger.info("Payment declined", metadata: ["transaction": "\(transaction.id)", "reasonCode": "\(reason.code)", "reason": "\(reason.name)"])
        return .declined(transaction)
    }
}
