/// The transaction as the API's `Model`, field names and formats as CloudPayments sends them.
extension Transaction {
    var apiModel: JSONValue {
        .object([
            ("TransactionId", .number(String(id))),
            ("Amount", .number(amount.decimalText)),
            ("Currency", .string(currency)),
            ("PaymentAmount", .number(amount.decimalText)),
            ("PaymentCurrency", .string(currency)),
            ("InvoiceId", .optionalString(details.invoiceID)),
            ("AccountId", .optionalString(details.accountID)),
            ("Email", .optionalString(details.email)),
            ("Description", .optionalString(details.description)),
            ("JsonData", .optionalString(details.jsonData)),
            ("CreatedDateIso", .string(SandboxDates.isoText(createdAt))),
            ("AuthDateIso", .optionalString(authorizedAt.map(SandboxDates.isoText))),
            ("ConfirmDateIso", .optionalString(confirmedAt.map(SandboxDates.isoText))),
            ("AuthCode", .optionalString(authCode)),
            ("TestMode", .bool(true)),
            ("IpAddress", .optionalString(details.ipAddress)),
            ("CardFirstSix", .string(card.firstSix)),
            ("CardLastFour", .string(card.lastFour)),
            ("CardExpDate", .string(card.expiry)),
            ("CardType", .string(card.brand.rawValue)),
            ("Issuer", .string(SandboxIdentity.issuer)),
            ("Status", .string(status.rawValue)),
            ("StatusCode", .number(String(status.code))),
            ("Reason", .string(reason.name)),
            ("ReasonCode", .number(String(reason.code))),
            ("CardHolderMessage", .string(reason.cardHolderMessage)),
            ("Name", .string(card.holderName)),
            ("Token", .optionalString(token)),
            ("Rrn", .optionalString(rrn)),
            ("SubscriptionId", .null),
        ])
    }
}
