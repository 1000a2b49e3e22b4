/// How the issuer behind a card answers: approve, or decline for a reason.
enum IssuerDecision: Sendable {
    case approve
    case decline(TransactionReason)
}

/// What a card does in the sandbox: whether it asks for 3-D Secure, and the issuer's answer for a payment
/// by cryptogram (the cardholder is present) and by token (a merchant-initiated renewal).
struct CardBehaviour: Sendable {
    let requiresThreeDS: Bool
    let byCryptogram: IssuerDecision
    let byToken: IssuerDecision

    /// Any other Luhn-valid card: approved without 3-D Secure, so made-up numbers still work.
    static let ordinary = CardBehaviour(requiresThreeDS: false, byCryptogram: .approve, byToken: .approve)
}

/// CloudPayments' published test cards and how each behaves (the "Test cards" table of the integration contract).
enum TestCards {
    /// A listed test card behaves as published; any other card can ask for a decline through its holder name,
    /// `DECLINE <code>` (declined at once) or `TOKEN DECLINE <code>` (approved, then declined on every renewal),
    /// so every reason code can be exercised without a card per code.
    static func behaviour(for card: CardDetails) -> CardBehaviour {
        if let listed = table[card.number.digits] { return listed }
        let words = card.holderName.uppercased().split(separator: " ")
        guard let code = words.last.flatMap({ Int($0) }), let reason = TransactionReason.withCode(code), reason != .approved else {
            return .ordinary
        }
        switch words.dropLast() {
        case ["DECLINE"]: return CardBehaviour(requiresThreeDS: false, byCryptogram: .decline(reason), byToken: .decline(reason))
        case ["TOKEN", "DECLINE"]: return CardBehaviour(requiresThreeDS: false, byCryptogram: .approve, byToken: .decline(reason))
        default: return .ordinary
        }
    }

    private static let table: [String: CardBehaviour] = {
        let successWithThreeDS = CardBehaviour(requiresThreeDS: true, byCryptogram: .approve, byToken: .approve)
        let success = CardBehaviour.ordinary
        // Approved while the cardholder pays, but renewals by token fail: the classic "card ran dry" case.
        let successThenInsufficientByToken = CardBehaviour(
            requiresThreeDS: false, byCryptogram: .approve, byToken: .decline(.insufficientFunds)
        )
        // These never succeed, so they never get a token; the token column is moot and mirrors the decline.
        let insufficientWithThreeDS = CardBehaviour(
            requiresThreeDS: true, byCryptogram: .decline(.insufficientFunds), byToken: .decline(.insufficientFunds)
        )
        let insufficient = CardBehaviour(
            requiresThreeDS: false, byCryptogram: .decline(.insufficientFunds), byToken: .decline(.insufficientFunds)
        )
        let rows: [(numbers: [String], behaviour: CardBehaviour)] = [
            (["4242424242424242", "5555555555554444", "2200000000000004"], successWithThreeDS),
            (["4000000000003055", "5205000000003055"], success),
            (["4111111111111111", "5200828282828210"], successThenInsufficientByToken),
            (["4012888888881881", "5105105105105100"], insufficientWithThreeDS),
            (["4000056655665556", "5404000000000043"], insufficient),
        ]
        return Dictionary(uniqueKeysWithValues: rows.flatMap { row in row.numbers.map { ($0, row.behaviour) } })
    }()
}
