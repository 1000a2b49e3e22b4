import Acquiring
import Billing
import BillingCore
import Foundation
import Storage

/// Money in API bodies: integer minor units and an ISO currency code.
struct MoneyBody: Codable, Sendable {
    var amount: Int64
    var currency: String

    init(_ money: Money) {
        amount = money.amount
        currency = money.currency.rawValue
    }
}

/// A plan as the API shows it.
struct PlanBody: Codable, Sendable {
    var id: String
    var code: String
    var tier: String
    var title: String
    var periodMonths: Int
    var price: MoneyBody

    init(_ plan: Plan) {
        id = plan.id.lowercased
        code = plan.code
        tier = plan.tier
        title = plan.title
        periodMonths = plan.periodMonths
        price = MoneyBody(plan.price)
    }
}

/// A span of time in API bodies.
struct PeriodBody: Codable, Sendable {
    var start: Date
    var end: Date

    init(_ period: BillingPeriod) {
        start = period.start
        end = period.end
    }
}

/// Why a payment was declined, for people and for code.
struct FailureBody: Codable, Sendable {
    var code: Int
    var message: String
}

/// An invoice as its owner sees it.
struct InvoiceBody: Codable, Sendable {
    var id: String
    var status: String
    var kind: String
    var amount: MoneyBody
    @NullEncoded var plan: PlanBody?
    @NullEncoded var period: PeriodBody?
    @NullEncoded var failure: FailureBody?
    var paymentUrl: String
    var createdAt: Date
    @NullEncoded var paidAt: Date?
    /// Every acquirer transaction for the invoice, cards masked.
    var attempts: [AttemptBody]
    var refunds: [RefundBody]

    init(_ invoice: Invoice, plan: Plan?, paymentURL: String, attempts: [PaymentAttempt], refunds: [Refund]) {
        id = invoice.id.lowercased
        status = invoice.status.rawValue
        kind = invoice.kind.rawValue
        amount = MoneyBody(invoice.amount)
        self.plan = plan.map(PlanBody.init)
        period = invoice.period.map(PeriodBody.init)
        failure = invoice.failure.map { FailureBody(code: $0.code, message: $0.message) }
        paymentUrl = paymentURL
        createdAt = invoice.createdAt
        paidAt = invoice.paidAt
        self.attempts = attempts.map(AttemptBody.init)
        self.refunds = refunds.map(RefundBody.init)
    }
}

/// A payment attempt as the invoice's owner sees it.
struct AttemptBody: Codable, Sendable {
    var id: String
    var status: String
    var amount: MoneyBody
    @NullEncoded var card: CardBody?
    @NullEncoded var failure: FailureBody?
    var createdAt: Date
    @NullEncoded var succeededAt: Date?

    init(_ attempt: PaymentAttempt) {
        id = attempt.id.lowercased
        status = attempt.status.rawValue
        amount = MoneyBody(attempt.amount)
        card = attempt.card.map { CardBody(brand: $0.brand, lastFour: $0.lastFour) }
        failure = attempt.decline.map { FailureBody(code: $0.code, message: $0.message) }
        createdAt = attempt.createdAt
        succeededAt = attempt.succeededAt
    }
}

/// A card as shown to people: brand and last four digits.
struct CardBody: Codable, Sendable {
    @NullEncoded var brand: String?
    var lastFour: String
}

/// A refund as the API shows it.
struct RefundBody: Codable, Sendable {
    var id: String
    var status: String
    var amount: MoneyBody
    var reason: String
    /// The operator's words, for refunds an operator asked for.
    @NullEncoded var comment: String?
    @NullEncoded var failureMessage: String?
    var createdAt: Date
    @NullEncoded var settledAt: Date?

    init(_ refund: Refund) {
        id = refund.id.lowercased
        status = refund.status.rawValue
        amount = MoneyBody(refund.amount)
        reason = refund.reason.rawValue
        comment = refund.comment
        failureMessage = refund.failureMessage
        createdAt = refund.createdAt
        settledAt = refund.settledAt
    }
}

/// The answer to a checkout: what to pay and how the browser pays it.
struct CheckoutResponseBody: Encodable, Sendable {
    var invoiceId: String
    var status: String
    var amount: MoneyBody
    var plan: PlanBody
    var paymentUrl: String
    var acquirer: String
    var widgetScriptUrl: String
    /// The acquirer widget's own options, in its own names and formats.
    var widget: [String: WidgetValue]

    init(_ invoice: Invoice, plan: Plan, services: BillingServices, links: PaymentLinks) throws {
        let (acquirer, browser) = try services.browserCheckout(for: invoice, description: plan.title, includeEmail: true)
        invoiceId = invoice.id.lowercased
        status = invoice.status.rawValue
        amount = MoneyBody(invoice.amount)
        self.plan = PlanBody(plan)
        paymentUrl = links.url(for: invoice.id)
        self.acquirer = acquirer.name
        widgetScriptUrl = browser.scriptURL
        widget = browser.options
    }
}

/// The viewer's subscription.
struct SubscriptionBody: Codable, Sendable {
    var id: String
    var status: String
    @NullEncoded var plan: PlanBody?
    @NullEncoded var currentPeriod: PeriodBody?
    var autoRenew: Bool
    var cancelAtPeriodEnd: Bool
    /// The cancellation that stands, once the viewer cancelled.
    @NullEncoded var cancellation: CancellationBody?
    /// The next automatic charge, while the subscription renews automatically.
    @NullEncoded var nextCharge: NextChargeBody?

    init(_ standing: SubscriptionCancellation.Standing, now: Date) {
        let subscription = standing.subscription
        id = subscription.id.lowercased
        status = subscription.effectiveStatus(at: now).rawValue
        plan = standing.plan.map(PlanBody.init)
        currentPeriod = subscription.currentPeriod.map(PeriodBody.init)
        autoRenew = subscription.autoRenew
        cancelAtPeriodEnd = subscription.cancelAtPeriodEnd
        cancellation = standing.cancellation == nil ? nil : CancellationBody(standing, now: now)
        nextCharge = standing.nextCharge.map(NextChargeBody.init)
    }
}

/// When the card is charged next and for how much; in dunning, the renewal left unpaid (its
/// `payment_url`, from `GET /v1/invoices/{id}`, takes another card).
struct NextChargeBody: Codable, Sendable {
    /// Null when no automatic try is left: only another card can pay the renewal.
    @NullEncoded var at: Date?
    var amount: MoneyBody
    /// "Visa •••• 4242".
    @NullEncoded var card: String?
    @NullEncoded var unpaidInvoiceId: String?
    @NullEncoded var failure: FailureBody?

    init(_ next: SubscriptionCancellation.NextCharge) {
        at = next.at
        amount = MoneyBody(next.amount)
        card = next.card?.label
        unpaidInvoiceId = next.unpaid?.id.lowercased
        failure = next.unpaid?.failure.map { FailureBody(code: $0.code, message: $0.message) }
    }
}

/// A cancellation as the API shows it: the quote before the viewer confirms (`state` `quote`),
/// the record after (`canceled`), with a sentence saying what it means in Russian and English.
struct CancellationBody: Codable, Sendable {
    var state: String
    var subscriptionId: String
    var policy: String
    var rule: String
    var refund: MoneyBody
    var unusedMonths: Int
    var accessUntil: Date
    @NullEncoded var canceledAt: Date?
    /// When the viewer took it back; such a cancellation is only ever shown to a repeat of its request.
    @NullEncoded var resumedAt: Date?
    /// none, pending, refunded or failed (we retry); null for a quote.
    @NullEncoded var refundStatus: String?
    var canResume: Bool
    var refunds: [RefundBody]
    var message: MessageBody

    /// The cancellation that stands, else the quote; nil when there is neither.
    init?(_ standing: SubscriptionCancellation.Standing, now: Date) {
        let terms: CancellationQuote
        if let cancellation = standing.cancellation {
            terms = cancellation.terms
            state = "canceled"
            policy = cancellation.policy.rawValue
            canceledAt = cancellation.requestedAt
            resumedAt = cancellation.resumedAt
            refundStatus = standing.refundState?.rawValue
            canResume = cancellation.canResume(at: now)
        } else if let quote = standing.quote {
            terms = quote
            state = "quote"
            policy = standing.policy.rawValue
            canceledAt = nil
            resumedAt = nil
            refundStatus = nil
            canResume = false
        } else {
            return nil
        }
        subscriptionId = standing.subscription.id.lowercased
        rule = terms.rule.rawValue
        refund = MoneyBody(terms.refund)
        unusedMonths = terms.unusedMonths
        accessUntil = terms.accessUntil
        refunds = standing.refunds.map(RefundBody.init)
        let refundState = standing.refundState
        message = MessageBody(
            ru: CancellationWording.sentence(terms, refundState: refundState, now: now, language: .ru),
            en: CancellationWording.sentence(terms, refundState: refundState, now: now, language: .en)
        )
    }
}

extension CancellationBody {
    /// What the cancellation endpoints answer: the cancellation or the quote, else why neither
    /// can be given (a refund of the payment still under way; a subscription not cancellable).
    static func required(_ standing: SubscriptionCancellation.Standing, now: Date) throws -> CancellationBody {
        if standing.refundUnderWay { throw BillingError.refundInProgress }
        guard let body = CancellationBody(standing, now: now) else {
            throw BillingError.subscriptionNotCancelable(standing.subscription.effectiveStatus(at: now))
        }
        return body
    }
}

/// The same words in both languages the service speaks.
struct MessageBody: Codable, Sendable {
    var ru: String
    var en: String
}

/// What the movies API needs to decide whether a user may watch.
struct EntitlementBody: Codable, Sendable {
    var userId: String
    var active: Bool
    @NullEncoded var planCode: String?
    @NullEncoded var until: Date?
}

/// An optional field that appears in JSON as `null` when absent, instead of disappearing,
/// so clients can rely on every documented key being present.
@propertyWrapper
struct NullEncoded<Value: Codable & Sendable>: Codable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
