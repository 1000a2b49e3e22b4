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
    var Status: String?
    var ReasonCode: Int?
    var CardHolderMessage: String?
    var AcsUrl: String?
    var PaReq: String?

    var money: Money? {
        guard let Amount, let currency = BillingCore.Currency(rawValue: Currency ?? "RUB") else { return nil }
        return Money(decimalString: "\(Amount)", currency: currency)
    }

    var payment: AcquirerPayment {
        let succeeded = Status == "Completed" || Status == "Authorized"
        // AwaitingAuthentication is neither: the cardholder has not finished 3-D Secure.
        let declined = Status == "Declined" || Status == "Cancelled"
        let code = ReasonCode ?? 0
        let decline = declined ? Decline(code: code, message: CardHolderMessage ?? DeclineReason.forCode(code).russian) : nil
        return AcquirerPayment(transactionID: TransactionId.map(String.init) ?? "", invoiceID: InvoiceId, amount: money, succeeded: succeeded, decline: decline)
    }
}
