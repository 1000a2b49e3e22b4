extension StoredCard {
    /// An entry of `/payments/tokens/list`.
    var apiModel: JSONValue {
        .object([
            ("Token", .string(token)),
            ("AccountId", .string(accountID)),
            ("CardMask", .string(card.number.masked)),
            ("ExpirationDateMonth", .number(String(card.expiry.month))),
            ("ExpirationDateYear", .number(String(card.expiry.year))),
        ])
    }
}
