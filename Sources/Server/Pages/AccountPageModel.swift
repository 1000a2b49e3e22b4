import Billing
import BillingCore
import Foundation

/// The values the `account` template renders, in the page's language.
struct AccountPageModel {
    var lang: String
    var otherLang: String
    var texts: [String: String]
    var hasSubscription: Bool
    var planTitle: String
    var status: String
    var statusText: String
    var period: String
    var autoRenewText: String
    /// The switch's form: offered for an active subscription.
    var autoRenewSwitch: AutoRenewSwitch?
    var quote: Quote?
    var cancellation: CancellationState?
    /// The quote changed between showing and confirming; the new one is shown.
    var quoteChanged: Bool
    var payments: [Payment]
    var hasPayments: Bool
    var pageToken: String
    var userId: String
    /// Sent with the cancel form as its idempotency key: a double submit cancels once.
    var requestId: String
    var configJSON: String
    var nonce: String

    /// The renewal switch: where it goes when pressed.
    struct AutoRenewSwitch {
        var enabled: String
        var label: String
    }

    /// What cancelling now gives.
    struct Quote {
        var text: String
        var expectedRefund: Int64
    }

    /// The cancellation that stands.
    struct CancellationState {
        var text: String
        var refundStatus: String
        var canResume: Bool
    }

    /// A row of the payments table.
    struct Payment {
        var date: String
        var plan: String
        var period: String
        var amount: String
        var status: String
        var statusText: String
        var refunds: [RefundRow]
    }

    /// A refund under its payment.
    struct RefundRow {
        var amount: String
        var status: String
        var statusText: String
    }

    /// What the page's script needs.
    struct Config: Encodable {
        var statusUrl: String
        var refundStatus: String?
        var lang: String
    }

    init(standing: SubscriptionCancellation.Standing?, plans: [UUID: Plan], invoices: [Invoice], refunds: [UUID?: [Refund]], language: PageLanguage, now: Date, quoteChanged: Bool, pageToken: String, userId: String, statusURL: String, nonce: String) {
        let texts = language.texts
        lang = language.rawValue
        otherLang = language.other.rawValue
        self.texts = texts
        func title(_ planID: UUID) -> String { plans[planID].map { language.planTitle(tier: $0.tier, months: $0.periodMonths) } ?? "" }
        func span(_ period: BillingPeriod?) -> String { period.map { "\(language.date($0.start)) – \(language.date($0.end))" } ?? "" }

        let subscription = standing?.subscription
        hasSubscription = subscription != nil
        planTitle = subscription.map { title($0.planID) } ?? ""
        status = subscription?.effectiveStatus(at: now).rawValue ?? ""
        statusText = texts["subscription_" + status] ?? status
        period = span(subscription?.currentPeriod)
        autoRenewText = texts[subscription?.autoRenew == true ? "autoRenewOn" : "autoRenewOff"] ?? ""
        autoRenewSwitch = status == SubscriptionStatus.active.rawValue
            ? subscription.map { AutoRenewSwitch(enabled: String(!$0.autoRenew), label: texts[$0.autoRenew ? "turnOff" : "turnOn"] ?? "") }
            : nil
        quote = standing.flatMap { standing in
            standing.quote.map { Quote(text: CancellationWording.sentence($0, refundState: nil, now: now, language: language), expectedRefund: $0.refund.amount) }
        }
        cancellation = standing.flatMap { standing in
            standing.cancellation.map {
                let state = $0.refundState(standing.refunds)
                return CancellationState(
                    text: CancellationWording.sentence($0.terms, refundState: state, now: now, language: language),
                    refundStatus: state.rawValue, canResume: $0.canResume(at: now)
                )
            }
        }
        self.quoteChanged = quoteChanged
        payments = invoices.filter { $0.status == .paid }.map { invoice in
            Payment(
                date: language.dateTime(invoice.paidAt ?? invoice.createdAt), plan: title(invoice.planID), period: span(invoice.period),
                amount: PaymentPageController.format(invoice.amount, language), status: invoice.status.rawValue,
                statusText: texts[invoice.status.rawValue] ?? invoice.status.rawValue,
                refunds: (refunds[invoice.id] ?? []).map { refund in
                    let status = refund.status == .created ? RefundStatus.pending.rawValue : refund.status.rawValue
                    return RefundRow(amount: PaymentPageController.format(refund.amount, language), status: status, statusText: texts["refund_" + status] ?? status)
                }
            )
        }
        hasPayments = !payments.isEmpty
        self.pageToken = pageToken
        self.userId = userId
        requestId = UUID().lowercased
        let config = Config(statusUrl: statusURL, refundStatus: cancellation?.refundStatus, lang: language.rawValue)
        configJSON = (try? scriptSafeJSON(config)) ?? "{}"
        self.nonce = nonce
    }
}
