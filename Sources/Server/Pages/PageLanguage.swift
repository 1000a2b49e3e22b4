import BillingCore
import Foundation
import Hummingbird

/// The language a page speaks: Russian by default, English on request.
typealias PageLanguage = Language

extension Language {
    /// `?lang=` wins, then the browser's Accept-Language, then Russian.
    init(request: Request) {
        if let requested = request.uri.queryParameters["lang"].flatMap({ PageLanguage(rawValue: String($0)) }) {
            self = requested
        } else if let accepted = request.headers[.acceptLanguage], Language(acceptLanguage: accepted) == .en {
            self = .en
        } else {
            self = .ru
        }
    }

    /// Every text the payment, demo and account pages show.
    var texts: [String: String] {
        switch self {
        case .ru: [
            "title": "Оплата подписки Movix",
            "plan": "Тариф",
            "amount": "К оплате",
            "method": "Способ оплаты",
            "newCard": "Новая карта",
            "savedCard": "Сохранённая карта",
            "pay": "Оплатить",
            "status": "Статус",
            "created": "Ожидаем оплату",
            "pending": "Ожидаем подтверждение банка",
            "paid": "Оплачено",
            "refunded": "Деньги возвращены",
            "failed": "Отклонено",
            "declined": "Платёж отклонён, можно попробовать ещё раз",
            "canceled": "Счёт отменён",
            "watch": "Смотреть фильмы",
            "retry": "Попробовать снова",
            "secure": "Данные карты вводятся в форме платёжного сервиса и не попадают к нам.",
            "demoTitle": "Movix Premium",
            "demoLead": "Выберите срок подписки",
            "demoBuy": "Оплатить подписку",
            "demoSubscribed": "Подписка Movix Premium действует до",
            "months": "мес.",
            "other": "English",
            "accountTitle": "Моя подписка Movix",
            "accountLink": "Моя подписка",
            "mailSent": "Последнее письмо",
            "mailQueued": "ещё не отправлено",
            "noSubscription": "У вас нет подписки.",
            "period": "Период",
            "autoRenew": "Автопродление",
            "autoRenewOn": "включено",
            "autoRenewOff": "выключено",
            "nextCharge": "Следующее списание",
            "payWithAnotherCard": "Оплатить другой картой",
            "changeCard": "Сменить карту",
            "cardCheckTitle": "Новая карта для автопродления",
            "cardCheckNote": "Чтобы проверить и сохранить карту, мы спишем 1 ₽ и сразу вернём его.",
            "turnOn": "Включить",
            "turnOff": "Выключить",
            "cancelSubscription": "Отменить подписку",
            "confirmCancel": "Подтвердить отмену",
            "resume": "Возобновить подписку",
            "quoteChanged": "Сумма изменилась, пока страница была открыта. Проверьте её и подтвердите снова.",
            "payments": "Платежи",
            "noPayments": "Платежей пока нет.",
            "date": "Дата",
            "paidAmount": "Сумма",
            "demoUser": "Демо-пользователь",
            "refundUnderWay": "Возврат по платежу ещё обрабатывается. Отменить подписку можно будет, когда он завершится.",
            "refused": "Это сейчас невозможно: подписка изменилась. На странице её текущее состояние.",
            "needsCard": "Автопродление можно включить после оплаты картой, сохранённой для следующих платежей.",
            "subscription_pending": "Ожидает оплаты",
            "subscription_active": "Активна",
            "subscription_past_due": "Платёж просрочен",
            "subscription_canceled": "Отменена",
            "subscription_expired": "Завершена",
            "refund_pending": "Возврат в пути",
            "refund_refunded": "Возвращено",
            "refund_failed": "Возврат не прошёл, повторим",
        ]
        case .en: [
            "title": "Pay for Movix",
            "plan": "Plan",
            "amount": "Amount due",
            "method": "Payment method",
            "newCard": "New card",
            "savedCard": "Saved card",
            "pay": "Pay",
            "status": "Status",
            "created": "Waiting for payment",
            "pending": "Waiting for the bank",
            "paid": "Paid",
            "refunded": "Refunded",
            "failed": "Declined",
            "declined": "Payment declined; you can try again",
            "canceled": "Invoice canceled",
            "watch": "Watch movies",
            "retry": "Try again",
            "secure": "Card details go to the payment provider's form and never reach us.",
            "demoTitle": "Movix Premium",
            "demoLead": "Choose your subscription",
            "demoBuy": "Pay for subscription",
            "demoSubscribed": "Your Movix Premium subscription runs until",
            "months": "mo.",
            "other": "Русский",
            "accountTitle": "My Movix subscription",
            "accountLink": "My subscription",
            "mailSent": "Last email",
            "mailQueued": "not sent yet",
            "noSubscription": "You have no subscription.",
            "period": "Period",
            "autoRenew": "Auto-renew",
            "autoRenewOn": "on",
            "autoRenewOff": "off",
            "nextCharge": "Next charge",
            "payWithAnotherCard": "Pay with another card",
            "changeCard": "Change card",
            "cardCheckTitle": "New card for auto-renew",
            "cardCheckNote": "To check and save the card we charge 1 ₽ and return it at once.",
            "turnOn": "Turn on",
            "turnOff": "Turn off",
            "cancelSubscription": "Cancel subscription",
            "confirmCancel": "Confirm cancellation",
            "resume": "Resume subscription",
            "quoteChanged": "The amount changed while the page was open. Check it and confirm again.",
            "payments": "Payments",
            "noPayments": "No payments yet.",
            "date": "Date",
            "paidAmount": "Amount",
            "demoUser": "Demo user",
            "refundUnderWay": "A refund of your payment is still being processed. You can cancel once it is settled.",
            "refused": "That cannot be done now: the subscription has changed. The page shows where it stands.",
            "needsCard": "Auto-renew can be turned on after paying with a card saved for later payments.",
            "subscription_pending": "Awaiting payment",
            "subscription_active": "Active",
            "subscription_past_due": "Payment overdue",
            "subscription_canceled": "Cancelled",
            "subscription_expired": "Ended",
            "refund_pending": "Refund on its way",
            "refund_refunded": "Refunded",
            "refund_failed": "Refund failed, we will retry",
        ]
        }
    }

    /// Why a payment was declined, for this page's reader: the acquirer's own cardholder message
    /// is Russian, so English pages take the text for its reason code instead.
    func declineMessage(_ decline: Decline) -> String {
        self == .ru ? decline.message : DeclineReason.forCode(decline.code).english
    }

    /// The other language, for the switch link.
    var other: PageLanguage { self == .ru ? .en : .ru }
}
