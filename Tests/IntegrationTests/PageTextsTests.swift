import BillingCore
import Foundation
@testable import Server
import Testing

@Suite("Payment page texts")
struct PageTextsTests {
    @Test("plan names follow Russian plural rules", arguments: [
        (1, "Movix Premium, 1 месяц"), (3, "Movix Premium, 3 месяца"), (6, "Movix Premium, 6 месяцев"),
        (12, "Movix Premium, 12 месяцев"), (21, "Movix Premium, 21 месяц"), (11, "Movix Premium, 11 месяцев"),
    ])
    func russian(months: Int, title: String) {
        #expect(PageLanguage.ru.planTitle(tier: "premium", months: months) == title)
    }

    @Test func english() {
        #expect(PageLanguage.en.planTitle(tier: "premium", months: 1) == "Movix Premium, 1 month")
        #expect(PageLanguage.en.planTitle(tier: "premium", months: 6) == "Movix Premium, 6 months")
    }

    @Test("both languages have the same texts")
    func sameKeys() {
        #expect(Set(PageLanguage.ru.texts.keys) == Set(PageLanguage.en.texts.keys))
    }

    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func terms(_ rule: CancellationQuote.Rule, refund: Int64, months: Int = 0, accessIn: TimeInterval = 0) -> CancellationQuote {
        CancellationQuote(rule: rule, refund: .rub(refund), accessUntil: now.addingTimeInterval(accessIn), unusedMonths: months)
    }

    @Test("a cancellation quote says what comes back and until when, in each language")
    func cancellationQuotes() {
        let firstHour = Self.terms(.withinFirstHour, refund: 29_900)
        #expect(CancellationWording.sentence(firstHour, refundState: nil, now: Self.now, language: .en)
            == "You paid less than an hour ago, so all of it comes back: RUB 299.00 is refunded to your card and access ends now.")
        #expect(CancellationWording.sentence(firstHour, refundState: nil, now: Self.now, language: .ru).contains("299,00 ₽ вернутся на карту"))
        let months = Self.terms(.unusedMonths, refund: 179_333, months: 8, accessIn: 86_400)
        #expect(CancellationWording.sentence(months, refundState: nil, now: Self.now, language: .en).hasPrefix("8 unused months come back: RUB 1793.33 is refunded to your card. You keep access until "))
        #expect(CancellationWording.sentence(months, refundState: nil, now: Self.now, language: .ru).hasPrefix("Вернём деньги за 8 неиспользованных месяцев: 1793,33 ₽ на карту."))
        let one = Self.terms(.unusedMonths, refund: 26_633, months: 1, accessIn: 86_400)
        #expect(CancellationWording.sentence(one, refundState: nil, now: Self.now, language: .en).hasPrefix("1 unused month comes back"))
        #expect(CancellationWording.sentence(one, refundState: nil, now: Self.now, language: .ru).hasPrefix("Вернём деньги за 1 неиспользованный месяц"))
        let three = Self.terms(.unusedMonths, refund: 53_266, months: 3, accessIn: 86_400)
        #expect(CancellationWording.sentence(three, refundState: nil, now: Self.now, language: .ru).hasPrefix("Вернём деньги за 3 неиспользованных месяца"))
    }

    @Test("after cancelling, the sentence follows the refund", arguments: CancellationRefundState.allCases)
    func cancellationOutcome(state: CancellationRefundState) {
        let terms = Self.terms(state == .none ? .nothingUnused : .unusedMonths, refund: state == .none ? 0 : 10_000, months: 2, accessIn: 86_400)
        let english = CancellationWording.sentence(terms, refundState: state, now: Self.now, language: .en)
        let russian = CancellationWording.sentence(terms, refundState: state, now: Self.now, language: .ru)
        #expect(english.hasPrefix("Subscription cancelled."))
        #expect(russian.hasPrefix("Подписка отменена."))
        let expected: [CancellationRefundState: (String, String)] = [
            .none: ("Nothing is refunded.", "Деньги не возвращаются."),
            .pending: ("is on its way to your card", "отправлен на карту"),
            .refunded: ("has been refunded to your card", "вернулись на карту"),
            .failed: ("failed; we will retry", "мы повторим попытку"),
        ]
        #expect(english.contains(expected[state]!.0))
        #expect(russian.contains(expected[state]!.1))
        #expect(english.contains("You keep access until"))
        // Once the access date has passed, the sentence says it ended.
        #expect(CancellationWording.sentence(terms, refundState: state, now: Self.now.addingTimeInterval(86_400), language: .en).hasSuffix("Access has ended."))
    }
}
