/// A card kept for merchant-initiated payments, found by its token.
struct StoredCard: Sendable {
    let token: String
    let accountID: String
    let card: CardDetails
}

/// Cards remembered after a successful payment with an `AccountId`, so `/payments/tokens/charge` can pay with them later.
actor TokenVault {
    private var cardsByToken: [String: StoredCard] = [:]
    private var tokensByOwner: [Owner: String] = [:]

    private struct Owner: Hashable {
        let accountID: String
        let number: CardNumber
    }

    /// The same card paid for the same account keeps its token, as a merchant would otherwise collect duplicates.
    func token(for card: CardDetails, accountID: String) -> String {
        let owner = Owner(accountID: accountID, number: card.number)
        if let token = tokensByOwner[owner] { return token }
        let token = "sbx_tok_" + RandomText.hex(bytes: 16)
        tokensByOwner[owner] = token
        cardsByToken[token] = StoredCard(token: token, accountID: accountID, card: card)
        return token
    }

    func card(token: String) -> StoredCard? {
        cardsByToken[token]
    }

    func allCards() -> [StoredCard] {
        cardsByToken.values.sorted { ($0.accountID, $0.token) < ($1.accountID, $1.token) }
    }
}
