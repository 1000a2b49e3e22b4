/// The card as it may be shown: first six, last four, expiry, brand and holder.
struct CardSummary: Sendable {
    let firstSix: String
    let lastFour: String
    let expiry: String
    let brand: CardBrand
    let holderName: String

    init(_ card: CardDetails) {
        firstSix = card.number.firstSix
        lastFour = card.number.lastFour
        expiry = card.expiry.text
        brand = card.number.brand
        holderName = card.holderName
    }
}
