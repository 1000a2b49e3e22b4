import Billing
import BillingCore
import Foundation

/// What the account page says about the next automatic charge and a declined renewal, in the
/// page's language.
enum RenewalWording {
    /// "2 января 2027, 299,00 ₽, Visa •••• 4242".
    static func nextCharge(_ next: SubscriptionCancellation.NextCharge, language: PageLanguage) -> String {
        ([next.at.map(language.date)] + [language.amount(next.amount), next.card?.label])
            .compactMap { $0 }.joined(separator: ", ")
    }

    /// Ends a sentence with one full stop: Russian dates already end with "г.".
    private static func sentence(_ text: String) -> String {
        text.hasSuffix(".") ? text : text + "."
    }

    /// Why the renewal is unpaid, what happens next, and how long access lasts.
    static func declined(_ next: SubscriptionCancellation.NextCharge, accessUntil: Date?, language: PageLanguage) -> String {
        let reason = next.unpaid?.failure.map(language.declineMessage) ?? ""
        switch language {
        case .ru:
            return ["Не удалось списать плату за продление\(reason.isEmpty ? "" : ": " + reason).",
                    next.at.map { sentence("Попробуем ещё раз \(language.date($0))") } ?? "Автоматических попыток больше не будет: оплатите другой картой.",
                    accessUntil.map { sentence("Доступ сохранится до \(language.dateTime($0))") }].compactMap { $0 }.joined(separator: " ")
        case .en:
            return ["The renewal payment did not go through\(reason.isEmpty ? "" : ": " + reason).",
                    next.at.map { sentence("We will try again on \(language.date($0))") } ?? "There will be no more automatic tries: pay with another card.",
                    accessUntil.map { sentence("You keep access until \(language.dateTime($0))") }].compactMap { $0 }.joined(separator: " ")
        }
    }
}
