import BillingCore
import Foundation
import Storage

/// What an outbox event carries: the entity as it stood when the event happened, in the wire
/// format of schema version 1 (docs/events.md): snake_case keys, money as `{"amount", "currency"}`
/// in minor units, numbers as numbers, times as ISO 8601 UTC with milliseconds.
enum EventSnapshot {
    /// An invoice, with the card that paid or was declined when the event knows it.
    case invoice(Invoice, card: CardDetails?)
    case subscription(Subscription)
    /// A subscription as cancelled: what comes back and until when access runs.
    case canceled(Subscription, Cancellation)
    case refund(Refund)
    /// Money that fits no invoice, and why it goes back.
    case payment(PaymentAttempt, reason: RefundReason)
    /// A renewal to come: when, how much, which card.
    case renewalUpcoming(Subscription, chargeAt: Date, amount: Money, card: SavedCard?)

    /// The entity the event is about.
    var aggregateID: UUID {
        switch self {
        case .invoice(let invoice, _): invoice.id
        case .subscription(let subscription), .canceled(let subscription, _), .renewalUpcoming(let subscription, _, _, _): subscription.id
        case .refund(let refund): refund.invoiceID ?? refund.attemptID
        case .payment(let attempt, _): attempt.invoiceID ?? attempt.id
        }
    }

    /// The subscription whose events keep their order; nil where the outbox finds it from the invoice.
    var subscriptionID: UUID? {
        switch self {
        case .invoice(let invoice, _): invoice.subscriptionID
        case .subscription(let subscription), .canceled(let subscription, _), .renewalUpcoming(let subscription, _, _, _): subscription.id
        case .refund, .payment: nil
        }
    }

    var userID: UUID? {
        switch self {
        case .invoice(let invoice, _): invoice.userID
        case .subscription(let subscription), .canceled(let subscription, _), .renewalUpcoming(let subscription, _, _, _): subscription.userID
        case .refund, .payment: nil
        }
    }

    /// The `data` object of the event, as JSON text.
    var json: String {
        let data: Data
        switch self {
        case .invoice(let invoice, let card): data = Self.encode(["invoice": InvoiceJSON(invoice, card: card)])
        case .subscription(let subscription): data = Self.encode(["subscription": SubscriptionJSON(subscription)])
        case .canceled(let subscription, let cancellation):
            data = Self.encode(CanceledJSON(subscription: SubscriptionJSON(subscription), cancellation: CancellationJSON(cancellation)))
        case .refund(let refund): data = Self.encode(["refund": RefundJSON(refund)])
        case .payment(let attempt, let reason): data = Self.encode(["payment": PaymentJSON(attempt, reason: reason)])
        case .renewalUpcoming(let subscription, let chargeAt, let amount, let card):
            data = Self.encode(UpcomingJSON(subscription: SubscriptionJSON(subscription), renewal: RenewalJSON(chargeAt: chargeAt, amount: amount, card: card)))
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func encode(_ value: some Encodable) -> Data {
        // The snapshots are plain values of strings, numbers and dates: encoding them cannot fail.
        (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(format))
        }
        return encoder
    }()
}

extension Journal {
    /// Queues `type` with its snapshot, to be delivered once the transaction commits; `id` for an
    /// event that must be written once however often its cause runs.
    mutating func enqueue(_ type: EventType, _ snapshot: EventSnapshot, at occurredAt: Date, id: UUID? = nil) {
        enqueueEvent(type, id: id, aggregateID: snapshot.aggregateID, subscriptionID: snapshot.subscriptionID, userID: snapshot.userID, at: occurredAt, payload: snapshot.json)
    }
}

// The wire format. Optional fields are written as null, not left out, so every event of a type
// has the same keys.

private struct MoneyJSON: Encodable {
    var amount: Int64
    var currency: String
    init(_ money: Money) {
        amount = money.amount
        currency = money.currency.rawValue
    }
}

private struct PeriodJSON: Encodable {
    var start: Date
    var end: Date
    init?(_ period: BillingPeriod?) {
        guard let period else { return nil }
        start = period.start
        end = period.end
    }
}

private struct CardJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init?(_ card: CardDetails?) {
        guard let card else { return nil }
        fields = [("brand", card.brand), ("firstSix", card.firstSix), ("lastFour", card.lastFour)]
    }

    /// A saved card: what the account shows of it.
    init?(_ card: SavedCard?) {
        guard let card else { return nil }
        fields = [("brand", card.brand), ("firstSix", String?.none), ("lastFour", card.lastFour)]
    }
}

private struct FailureJSON: Encodable {
    var code: Int
    var message: String
    /// `soft` (retried) or `hard`, as the dunning table classifies the code.
    var kind: String
    init?(_ decline: Decline?) {
        guard let decline else { return nil }
        code = decline.code
        message = decline.message
        kind = DeclineKind.of(code: decline.code).rawValue
    }
}

/// Encodes every optional as a value or null.
private protocol NullWritingEncodable: Encodable {
    var fields: [(String, any Encodable & Sendable)] { get }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension NullWritingEncodable {
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyKey.self)
        for (key, value) in fields {
            if let optional = value as? any OptionalEncodable, optional.isNil {
                try container.encodeNil(forKey: AnyKey(key))
            } else {
                try container.encode(value, forKey: AnyKey(key))
            }
        }
    }
}

private protocol OptionalEncodable { var isNil: Bool { get } }
extension Optional: OptionalEncodable { fileprivate var isNil: Bool { self == nil } }

private struct InvoiceJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init(_ invoice: Invoice, card: CardDetails?) {
        fields = [
            ("id", invoice.id.lowercased), ("userId", invoice.userID.lowercased), ("subscriptionId", invoice.subscriptionID.lowercased),
            ("planId", invoice.planID.lowercased), ("kind", invoice.kind.rawValue), ("status", invoice.status.rawValue),
            ("amount", MoneyJSON(invoice.amount)), ("acquirer", invoice.acquirer), ("period", PeriodJSON(invoice.period)),
            ("paymentMethodId", invoice.paymentMethodID?.lowercased), ("card", CardJSON(card)), ("failure", FailureJSON(invoice.failure)),
            ("createdAt", invoice.createdAt), ("paidAt", invoice.paidAt),
        ]
    }
}

private struct SubscriptionJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init(_ subscription: Subscription) {
        fields = [
            ("id", subscription.id.lowercased), ("userId", subscription.userID.lowercased), ("planId", subscription.planID.lowercased),
            ("status", subscription.status.rawValue), ("currentPeriod", PeriodJSON(subscription.currentPeriod)),
            ("autoRenew", subscription.autoRenew), ("cancelAtPeriodEnd", subscription.cancelAtPeriodEnd),
            ("graceUntil", subscription.graceUntil), ("accessEnd", subscription.accessEnd),
        ]
    }
}

private struct CancellationJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init(_ cancellation: Cancellation) {
        fields = [
            ("id", cancellation.id.lowercased), ("rule", cancellation.rule.rawValue), ("refund", MoneyJSON(cancellation.refund)),
            ("accessUntil", cancellation.accessUntil), ("canceledAt", cancellation.requestedAt), ("actor", cancellation.actor),
        ]
    }
}

private struct CanceledJSON: Encodable {
    var subscription: SubscriptionJSON
    var cancellation: CancellationJSON
}

private struct RefundJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init(_ refund: Refund) {
        fields = [
            ("id", refund.id.lowercased), ("paymentId", refund.attemptID.lowercased), ("invoiceId", refund.invoiceID?.lowercased),
            ("status", refund.status.rawValue), ("reason", refund.reason.rawValue), ("amount", MoneyJSON(refund.amount)),
            ("failureMessage", refund.failureMessage), ("cancellationId", refund.cancellationID?.lowercased),
            ("createdAt", refund.createdAt), ("settledAt", refund.settledAt),
        ]
    }
}

private struct PaymentJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init(_ attempt: PaymentAttempt, reason: RefundReason) {
        fields = [
            ("id", attempt.id.lowercased), ("acquirer", attempt.acquirer), ("transactionId", attempt.transactionID),
            ("invoiceId", attempt.claimedInvoiceID), ("amount", MoneyJSON(attempt.amount)), ("card", CardJSON(attempt.card)),
            ("refundReason", reason.rawValue),
        ]
    }
}

private struct RenewalJSON: NullWritingEncodable {
    let fields: [(String, any Encodable & Sendable)]
    init(chargeAt: Date, amount: Money, card: SavedCard?) {
        fields = [("chargeAt", chargeAt), ("amount", MoneyJSON(amount)), ("card", CardJSON(card))]
    }
}

private struct UpcomingJSON: Encodable {
    var subscription: SubscriptionJSON
    var renewal: RenewalJSON
}
