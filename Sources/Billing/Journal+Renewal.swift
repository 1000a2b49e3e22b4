import BillingCore
import Foundation
import Storage

extension Journal {
    /// Schedules the renewal of the period ending at `periodEnd` and, before it, the notice
    /// that tells the viewer it is coming.
    mutating func scheduleRenewal(of subscriptionID: UUID, periodEnd: Date, terms: RenewalTerms) {
        let key = JobKey(subscriptionID: subscriptionID, periodEnd: periodEnd)
        schedule(.renewalNotice, key: key, at: terms.noticeAt(periodEnd: periodEnd))
        schedule(.renewal, key: key, at: terms.chargeAt(periodEnd: periodEnd))
    }
}
