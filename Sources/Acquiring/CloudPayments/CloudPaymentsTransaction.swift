import BillingCore
import Foundation

/// The `{"Success", "Message", "Model"}` envelope every CloudPayments API method answers with.
struct CloudPaymentsEnvelope: Decodable {
    var Success: Bool
    var Message: String?
    var Model: CloudPaymentsTransaction?

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        Success = try container.decode(Bool.self, forKey: .Success)
        Message = try container.decodeIfPresent(String.self, forKey: .Message)
        // Model is an object for payments, an array for lists, absent for errors: only the object matters here.
        Model = try? container.decodeIfPresent(CloudPaymentsTransaction.self, forKey: .Model)
    }

    /// The transaction, when the answer has one; `Success:false` with only a `Message` is a
    /// request error: no transaction exists.
    var transaction: CloudPaymentsTransaction? {
        Model?.TransactionId == nil ? nil : Model
    }

    private enum CodingKeys: String, CodingKey {
        case Success, Message, Model
    }
}

/// The Transaction model (and the 3-D Secure challenge, which shares its envelope).
struct CloudPaymentsTransaction: Decodable {
    var TransactionId: Int64?
    var Amount: Decimal?
    var Currency: String?
    var InvoiceId: String?
    var AccountId: String?
    var Status: String?
    var ReasonCode: Int?
    var CardFirstSix: String?
    var CardLastFour: String?
    var CardType: String?
    var CreatedDateIso: String?
    var ConfirmDateIso: String?
    var AcsUrl: String?
    var PaReq: String?

    var money: Money? {
        guard let Amount, let currency = BillingCore.Currency(rawValue: Currency ?? "RUB") else { return nil }
        return Money(decimalString: "\(Amount)", currency: currency)
    }

    var payment: AcquirerPayment {
        let state: AcquirerPayment.State
        switch Status {
        case "Completed": state = .succeeded
        case "Declined", "Cancelled":
            // The cardholder's text comes from the reason code, in the page's language, not from here.
            let code = ReasonCode ?? 0
            state = .declined(Decline(code: code, message: DeclineReason.forCode(code).russian))
        // AwaitingAuthentication: 3-D Secure is open; Authorized: a hold, not captured money.
        default: state = .unfinished
        }
        let card = zip(CardFirstSix, CardLastFour).map { CardDetails(firstSix: $0, lastFour: $1, brand: CardType, expiryMonth: nil, expiryYear: nil) }
        return AcquirerPayment(
            transactionID: TransactionId.map(String.init) ?? "", invoiceID: InvoiceId, accountID: AccountId, amount: money,
            state: state, card: card, occurredAt: (ConfirmDateIso ?? CreatedDateIso).flatMap(CloudPaymentsDate.parse)
        )
    }
}

/// Both values or none.
private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}
