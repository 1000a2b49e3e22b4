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
    /// "date, amount, card" of the next automatic charge; nil when none is planned.
    var nextCharge: String?
    /// A renewal whose charge was declined: what it means, and its payment page for another card.
    var declinedRenewal: DeclinedRenewal?
    /// A card can be changed: the subscription runs (active or past due).
    var canChangeCard: Bool
    /// The switch's form: offered for an active subscription.
    var autoRenewSwitch: AutoRenewSwitch?
    var quote: Quote?
    var cancellation: CancellationState?
    /// The quote changed between showing and confirming; the new one is shown.
    var quoteChanged: Bool
    /// An action was refused because the subscription changed since the page was shown.
    var refused: Bool
    /// Auto-renew is off and cannot be turned on without a saved card.
    var needsCard: Bool
    /// A refund of the payment is waiting for the acquirer; cancelling waits for it.
    var refundUnderWay: Bool
    var payments: [Payment]
    var hasPayments: Bool
    /// The last email to the viewer.
    var mail: MailPreview.Link? = nil
    var pageToken: String
    var userId: String
    /// Sent with the cancel form as its idempotency key: a double submit cancels once.
    var requestId: String
    var configJSON: String
    var nonce: String

    /// Why the page came back after an action.
    enum Note: String {
        case quoteChanged = "quote-changed"
        case refused
    }

    /// The renewal switch: where it goes when pressed.
    struct AutoRenewSwitch {
        var enabled: String
        var label: String
    }

    /// A renewal left unpaid by a declined charge.
    struct DeclinedRenewal {
        var text: String
        var payURL: String
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
        var date: String
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

    init(standing: SubscriptionCancellation.Standing?, plans: [UUID: Plan], invoices: [Invoice], refunds: [UUID?: [Refund]], hasCard: Bool, unpaidRenewalURL: String?, language: PageLanguage, now: Date, note: Note?, pageToken: String, userId: String, statusURL: String, nonce: String) {
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
        // Only a running subscription renews, whatever its flag says; past due still does (its
        // retries go on), though only an active one has the switch.
        let active = status == SubscriptionStatus.active.rawValue
        let renews = (active || status == SubscriptionStatus.pastDue.rawValue) && subscription?.autoRenew == true
        autoRenewText = texts[renews ? "autoRenewOn" : "autoRenewOff"] ?? ""
        // Past due, the switch only turns renewal off (which ends the retries and the grace).
        autoRenewSwitch = (active && (renews || hasCard)) || (!active && renews)
            ? AutoRenewSwitch(enabled: String(!renews), label: texts[renews ? "turnOff" : "turnOn"] ?? "")
            : nil
        needsCard = active && !renews && !hasCard
        canChangeCard = active || status == SubscriptionStatus.pastDue.rawValue
        let next = standing?.nextCharge
        nextCharge = next.flatMap { $0.unpaid == nil ? RenewalWording.nextCharge($0, language: language) : nil }
        if let next, let unpaidRenewalURL {
            declinedRenewal = DeclinedRenewal(text: RenewalWording.declined(next, accessUntil: subscription?.accessEnd, language: language), payURL: unpaidRenewalURL)
        }
        quote = standing.flatMap { standing in
            standing.quote.map { Quote(text: CancellationWording.sentence($0, refundState: nil, now: now, language: language), expectedRefund: $0.refund.amount) }
        }
        cancellation = standing.flatMap { standing in
            standing.cancellation.map {
                let state = standing.refundState ?? .none
                return CancellationState(
                    text: CancellationWording.sentence($0.terms, refundState: state, now: now, language: language),
                    refundStatus: state.rawValue, canResume: $0.canResume(at: now)
                )
            }
        }
        refundUnderWay = standing?.refundUnderWay ?? false
        quoteChanged = note == .quoteChanged
        refused = note == .refused
        payments = invoices.filter { $0.status == .paid }.map { invoice in
            Payment(
                date: language.dateTime(invoice.paidAt ?? invoice.createdAt), plan: invoice.kind == .cardCheck ? texts["cardCheckTitle"] ?? "" : title(invoice.planID), period: span(invoice.period),
                amount: language.amount(invoice.amount), status: invoice.status.rawValue,
                statusText: texts[invoice.status.rawValue] ?? invoice.status.rawValue,
                refunds: (refunds[invoice.id] ?? []).map { refund in
                    let status = refund.status == .created ? RefundStatus.pending.rawValue : refund.status.rawValue
                    return RefundRow(date: language.dateTime(refund.settledAt ?? refund.createdAt), amount: language.amount(refund.amount), status: status, statusText: texts["refund_" + status] ?? status)
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
