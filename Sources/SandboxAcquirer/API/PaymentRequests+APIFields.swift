/// Reading payment requests from API parameters, with CloudPayments' validation messages.
extension CardPaymentRequest {
    init(fields: APIFields, captureMode: CaptureMode) throws(RequestError) {
        let amount = try fields.amount()
        let currency = try fields.currency()
        let packet = try fields.requiredText("CardCryptogramPacket")
        let card: CardDetails
        do {
            card = try CardCryptogram.decode(packet)
        } catch {
            throw RequestError("Invalid CardCryptogramPacket")
        }
        self.init(
            amount: amount,
            currency: currency,
            captureMode: captureMode,
            card: fields.text("Name").map { card.withHolderName($0) } ?? card,
            details: fields.paymentDetails,
            saveCard: fields.flag("SaveCard")
        )
    }
}

extension TokenPaymentRequest {
    init(fields: APIFields) throws(RequestError) {
        let amount = try fields.amount()
        let currency = try fields.currency()
        let token = try fields.requiredText("Token")
        guard fields.text("AccountId") != nil else { throw RequestError("AccountId is required") }
        guard let initiator = Initiator(rawValue: try fields.requiredText("TrInitiatorCode")) else {
            throw RequestError("TrInitiatorCode must be 0 or 1")
        }
        self.init(
            amount: amount,
            currency: currency,
            token: token,
            initiator: initiator,
            isScheduled: fields.flag("PaymentScheduled"),
            details: fields.paymentDetails
        )
    }
}
