import BillingCore
import Foundation

/// The parts of an event's snapshot (schema version 1, docs/events.md) that email needs.
struct EventData: Decodable {
    var invoice: InvoiceData?
    var subscription: SubscriptionData?
    var cancellation: CancellationData?
    var refund: RefundData?
    var renewal: RenewalData?

    struct MoneyData: Decodable {
        var amount: Int64
        var currency: String
        var money: Money? { Currency(rawValue: currency).map { Money(amount: amount, currency: $0) } }
    }

    struct PeriodData: Decodable {
        var start: Date
        var end: Date
    }

    struct CardData: Decodable {
        var brand: String?
        var lastFour: String
    }

    struct FailureData: Decodable {
        var code: Int
        var message: String
    }

    struct InvoiceData: Decodable {
        var planId: UUID
        var subscriptionId: UUID
        var kind: String
        var amount: MoneyData
        var period: PeriodData?
        var card: CardData?
        var failure: FailureData?
    }

    struct SubscriptionData: Decodable {
        var planId: UUID
        var currentPeriod: PeriodData?
        var accessEnd: Date?
    }

    struct CancellationData: Decodable {
        var refund: MoneyData
        var accessUntil: Date
        var canceledAt: Date
    }

    struct RefundData: Decodable {
        var paymentId: UUID
        var invoiceId: UUID?
        var reason: String
        var amount: MoneyData
    }

    struct RenewalData: Decodable {
        var chargeAt: Date
        var amount: MoneyData
        var card: CardData?
    }

    static func decode(_ json: String) throws -> EventData {
        try decoder.decode(EventData.self, from: Data(json.utf8))
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            return try format.parse(text)
        }
        return decoder
    }()
}
