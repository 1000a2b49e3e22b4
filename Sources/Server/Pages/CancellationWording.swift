import Billing
import BillingCore
import Foundation

/// What a cancellation means, in a sentence a viewer understands, for the API and the account page.
enum CancellationWording {
    /// The quote before confirming, or what happened after.
    static func sentence(_ terms: CancellationQuote, refundState: CancellationRefundState?, now: Date, language: PageLanguage) -> String {
        let amount = language.amount(terms.refund)
        let until = language.dateTime(terms.accessUntil)
        let accessEnded = terms.accessUntil <= now
        let unusedMonths = terms.unusedMonths
        switch language {
        case .en:
            let access = accessEnded ? "Access ends now." : "You keep access until \(until)."
            guard let refundState else {
                return switch terms.rule {
                case .withinFirstHour: "You paid less than an hour ago, so all of it comes back: \(amount) is refunded to your card and access ends now."
                case .unusedMonths: "\(unusedMonths) unused \(unusedMonths == 1 ? "month comes" : "months come") back: \(amount) is refunded to your card. \(access)"
                case .nothingUnused: "Nothing is refunded: the month in progress counts as used. The subscription will not renew. \(access)"
                case .noRefunds: "Cancelling does not refund payments. The subscription will not renew. \(access)"
                }
            }
            let money = switch refundState {
            case .none: "Nothing is refunded."
            case .pending: "The refund of \(amount) is on its way to your card."
            case .refunded: "\(amount) has been refunded to your card."
            case .failed: "The refund of \(amount) failed; we will retry."
            }
            return "Subscription cancelled. \(money) " + (accessEnded ? "Access has ended." : access)
        case .ru:
            let access = accessEnded ? "Доступ закончится сразу." : "Доступ сохранится до \(until)."
            guard let refundState else {
                let months = "\(unusedMonths) " + PageLanguage.russianPlural(unusedMonths, one: "неиспользованный месяц", few: "неиспользованных месяца", many: "неиспользованных месяцев")
                return switch terms.rule {
                case .withinFirstHour: "Вы оплатили меньше часа назад, поэтому вернём всё: \(amount) вернутся на карту, доступ закончится сразу."
                case .unusedMonths: "Вернём деньги за \(months): \(amount) на карту. \(access)"
                case .nothingUnused: "Деньги не возвращаются: текущий месяц считается использованным. Подписка не продлится. \(access)"
                case .noRefunds: "При отмене деньги не возвращаются. Подписка не продлится. \(access)"
                }
            }
            let money = switch refundState {
            case .none: "Деньги не возвращаются."
            case .pending: "Возврат \(amount) отправлен на карту."
            case .refunded: "\(amount) вернулись на карту."
            case .failed: "Возврат \(amount) не прошёл, мы повторим попытку."
            }
            return "Подписка отменена. \(money) " + (accessEnded ? "Доступ закончился." : access)
        }
    }
}
