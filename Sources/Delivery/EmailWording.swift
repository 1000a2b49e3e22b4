import BillingCore
import Foundation

/// The words of every email, in Russian and English: rendered into the HTML and the plain-text
/// template alike (`EmailTemplates/email.*.mustache`).
struct EmailContent: Sendable {
    var subject: String
    var heading: String
    var paragraphs: [String]
    var details: [Detail]
    var footer: String

    /// One line of the details table.
    struct Detail: Sendable {
        var label: String
        var value: String
    }
}

enum EmailWording {
    static func content(_ template: EmailTemplate, facts: EmailFacts, language: Language) -> EmailContent {
        let ru = language == .ru
        let say = { (russian: String, english: String) in ru ? russian : english }
        let plan = facts.plan.map { language.planTitle(tier: $0.tier, months: $0.periodMonths) }
        let amount = facts.amount.map(language.amount)
        let card = facts.card?.label
        let reason = facts.failure.map { ru ? $0.message : DeclineReason.forCode($0.code).english }
        var details: [EmailContent.Detail] = []
        func detail(_ russian: String, _ english: String, _ value: String?) {
            if let value, !value.isEmpty { details.append(.init(label: say(russian, english), value: value)) }
        }
        /// Plan, amount and card: what a payment's email names.
        func paymentDetails() {
            detail("Тариф", "Plan", plan)
            detail("Сумма", "Amount", amount)
            detail("Карта", "Card", card)
        }
        let period = facts.period.map { "\(language.date($0.start)) – \(language.date($0.end))" }
        let subject: String
        let heading: String
        var paragraphs: [String] = []

        switch template {
        case .paymentSucceeded:
            let renewal = facts.invoiceKind == .renewal
            subject = renewal ? say("Подписка Movix продлена", "Your Movix subscription was renewed") : say("Подписка Movix оплачена", "Your Movix subscription is paid")
            heading = renewal ? say("Подписка продлена", "Your subscription was renewed") : say("Спасибо! Подписка оплачена", "Thank you! Your subscription is paid")
            paragraphs.append(say("Мы получили оплату \(amount ?? "").", "We received your payment of \(amount ?? "")."))
            if let end = facts.period?.end { paragraphs.append(say("Смотрите фильмы до \(language.date(end)).", "Enjoy watching until \(language.date(end)).")) }
            detail("Тариф", "Plan", plan)
            detail("Период", "Period", period)
            detail("Сумма", "Amount", amount)
            detail("Карта", "Card", card)
        case .paymentFailed:
            subject = say("Платёж за подписку Movix не прошёл", "Your Movix payment did not go through")
            heading = say("Платёж не прошёл", "Your payment did not go through")
            paragraphs.append(say("Банк отклонил платёж: \(reason ?? "причина не указана").", "Your bank declined the payment: \(reason ?? "no reason given")."))
            paragraphs.append(say(
                "Деньги не списаны. Проверьте данные и баланс карты или оплатите другой картой на странице оплаты.",
                "No money was taken. Check the card's details and balance, or pay with another card on the payment page."
            ))
            paymentDetails()
        case .renewalFailed:
            subject = say("Не удалось продлить подписку Movix", "We could not renew your Movix subscription")
            heading = say("Не удалось продлить подписку", "We could not renew your subscription")
            paragraphs.append(say("Банк отклонил списание: \(reason ?? "причина не указана").", "Your bank declined the charge: \(reason ?? "no reason given")."))
            let until = facts.accessUntil.map(language.date)
            if facts.failure.map({ DeclineKind.of(code: $0.code) == .soft }) ?? false {
                paragraphs.append(say(
                    "Мы попробуем ещё раз в ближайшие дни. Можно не ждать и оплатить другой картой в разделе «Моя подписка».",
                    "We will try again over the next few days. You need not wait: pay with another card under \"My subscription\"."
                ))
            } else {
                paragraphs.append(say(
                    "Эту карту больше не получится списать. Оплатите продление другой картой в разделе «Моя подписка».",
                    "This card cannot be charged again. Pay for the renewal with another card under \"My subscription\"."
                ))
            }
            if let until { paragraphs.append(say("Фильмы доступны до \(until).", "You can keep watching until \(until).")) }
            paymentDetails()
        case .renewalUpcoming:
            let when = facts.chargeAt.map(language.date) ?? ""
            subject = say("Скоро продление подписки Movix", "Your Movix subscription renews soon")
            heading = say("Скоро продление подписки", "Your subscription renews soon")
            paragraphs.append(say(
                "\(when) мы спишем \(amount ?? "") с карты \(card ?? "") за следующий период.",
                "On \(when) we will charge \(amount ?? "") to your card \(card ?? "") for the next period."
            ))
            paragraphs.append(say(
                "Если продлевать не нужно, выключите автопродление в разделе «Моя подписка» до этой даты.",
                "If you do not want to renew, turn automatic renewal off under \"My subscription\" before then."
            ))
            detail("Тариф", "Plan", plan)
            detail("Дата списания", "Charge date", facts.chargeAt.map(language.date))
            detail("Сумма", "Amount", amount)
            detail("Карта", "Card", card)
        case .refundSucceeded:
            subject = say("Movix вернул деньги", "Movix has refunded your money")
            heading = say("Деньги возвращены", "Your refund is on its way")
            paragraphs.append(say(
                "Мы вернули \(amount ?? "")\(card.map { " на карту \($0)" } ?? "").",
                "We have refunded \(amount ?? "")\(card.map { " to your card \($0)" } ?? "")."
            ))
            paragraphs.append(say(
                "Обычно деньги приходят на карту за 1–5 рабочих дней; некоторые банки зачисляют их до 30 дней.",
                "It usually reaches the card within 1–5 business days; some banks take up to 30 days."
            ))
            detail("Сумма", "Amount", amount)
            detail("Карта", "Card", card)
        case .subscriptionCanceled:
            subject = say("Подписка Movix отменена", "Your Movix subscription is cancelled")
            heading = say("Подписка отменена", "Your subscription is cancelled")
            paragraphs.append(say("Автопродление выключено, больше списаний не будет.", "Automatic renewal is off; you will not be charged again."))
            if let refund = facts.refund, refund.amount > 0 {
                paragraphs.append(say(
                    "Мы вернём \(language.amount(refund)) за неиспользованное время — о возврате придёт отдельное письмо.",
                    "We are refunding \(language.amount(refund)) for the unused time; a separate email confirms the refund."
                ))
            }
            if let until = facts.accessUntil, until > (facts.canceledAt ?? until).addingTimeInterval(60) {
                paragraphs.append(say("Фильмы доступны до \(language.dateTime(until)).", "You can keep watching until \(language.dateTime(until))."))
            } else if facts.accessUntil != nil {
                paragraphs.append(say("Доступ к фильмам закрыт.", "Access to movies has ended."))
            }
            detail("Тариф", "Plan", plan)
            detail("Возврат", "Refund", facts.refund.flatMap { $0.amount > 0 ? language.amount($0) : nil })
        case .subscriptionExpired:
            subject = say("Подписка Movix закончилась", "Your Movix subscription has ended")
            heading = say("Подписка закончилась", "Your subscription has ended")
            paragraphs.append(say(
                "Срок подписки истёк\(facts.endedAt.map { " " + language.date($0) } ?? ""). Чтобы снова смотреть фильмы, оформите подписку на сайте Movix.",
                "Your subscription ended\(facts.endedAt.map { " on " + language.date($0) } ?? ""). To watch again, subscribe on the Movix website."
            ))
            detail("Тариф", "Plan", plan)
        }
        return EmailContent(
            // A Russian date ends in "г.", which the sentence's own full stop would double.
            subject: subject, heading: heading, paragraphs: paragraphs.map { $0.replacingOccurrences(of: "г..", with: "г.") }, details: details,
            footer: say(
                "Это письмо о вашей подписке Movix; отвечать на него не нужно.",
                "This email is about your Movix subscription; there is no need to reply."
            )
        )
    }
}
