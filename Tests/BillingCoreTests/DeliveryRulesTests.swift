import BillingCore
import Foundation
import Testing

/// The rules of delivering events: retry delays, which event mails which email, the viewer's
/// language, and the notice before a renewal.
@Suite("Delivery rules")
struct DeliveryRulesTests {
    @Test("webhook retries double from 10 s up to an hour, spread ±20%")
    func webhookBackoff() {
        let backoff = DeliveryBackoff.webhooks
        #expect(backoff.delay(afterFailure: 1, random: 0.5) == 10)
        #expect(backoff.delay(afterFailure: 2, random: 0.5) == 20)
        #expect(backoff.delay(afterFailure: 3, random: 0.5) == 40)
        #expect(backoff.delay(afterFailure: 9, random: 0.5) == 2560)
        #expect(backoff.delay(afterFailure: 10, random: 0.5) == 3600, "capped at an hour")
        #expect(backoff.delay(afterFailure: 500, random: 0.5) == 3600, "no overflow however long it fails")
        #expect(backoff.delay(afterFailure: 1, random: 0) == 8)
        #expect(abs(backoff.delay(afterFailure: 1, random: 0.999999) - 12) < 0.001)
        #expect(backoff.delay(afterFailure: 0, random: 0.5) == 10, "a count below one is the first failure")
    }

    @Test("an endpoint is failing after three days of failures, not a moment before")
    func failingAfterThreeDays() {
        let first = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(!DeliveryBackoff.webhooks.isFailing(since: first, at: first.addingTimeInterval(3 * 86_400 - 1)))
        #expect(DeliveryBackoff.webhooks.isFailing(since: first, at: first.addingTimeInterval(3 * 86_400)))
        #expect(DeliveryBackoff.email.delay(afterFailure: 1, random: 0.5) == 30)
    }

    @Test("which event mails which email", arguments: [
        (EventType.invoicePaid, Invoice.Kind?.some(.initial), RefundReason?.none, EmailTemplate?.some(.paymentSucceeded)),
        (.invoicePaid, .renewal, nil, .paymentSucceeded),
        (.invoicePaid, .cardCheck, nil, nil),
        (.invoicePaymentFailed, .initial, nil, .paymentFailed),
        (.invoicePaymentFailed, .renewal, nil, .renewalFailed),
        (.invoicePaymentFailed, .cardCheck, nil, nil),
        (.subscriptionRenewalUpcoming, nil, nil, .renewalUpcoming),
        (.refundSucceeded, nil, .cancellation, .refundSucceeded),
        (.refundSucceeded, nil, .requestedByOperator, .refundSucceeded),
        (.refundSucceeded, nil, .cardCheck, nil),
        (.refundFailed, nil, .cancellation, nil),
        (.subscriptionCanceled, nil, nil, .subscriptionCanceled),
        (.subscriptionExpired, nil, nil, .subscriptionExpired),
        (.subscriptionActivated, nil, nil, nil),
        (.paymentUnmatched, nil, nil, nil),
    ])
    func templates(type: EventType, kind: Invoice.Kind?, reason: RefundReason?, template: EmailTemplate?) {
        #expect(EmailTemplate.for(type, invoiceKind: kind, refundReason: reason) == template)
    }

    @Test("the viewer's language from Accept-Language: the first one asked for, if it is ours", arguments: [
        ("en-US,en;q=0.9", Language?.some(.en)), ("ru-RU,ru;q=0.9,en;q=0.8", .ru), ("EN", .en), ("en;q=0.5", .en),
        ("de-DE,en;q=0.5", nil), ("", nil), ("*", nil),
    ])
    func acceptLanguage(header: String, language: Language?) {
        #expect(Language(acceptLanguage: header) == language)
    }

    @Test("amounts read as people write them")
    func amounts() {
        #expect(Language.ru.amount(Money.rub(29900)) == "299,00 ₽")
        #expect(Language.en.amount(Money.rub(29900)) == "RUB 299.00")
    }

    @Test("the renewal notice comes three days before the charge, which comes a day before the period ends")
    func renewalNotice() {
        let end = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(RenewalTerms.standard.noticeAt(periodEnd: end) == end.addingTimeInterval(-4 * 86_400))
    }
}
