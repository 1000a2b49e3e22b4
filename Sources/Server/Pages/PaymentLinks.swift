import Billing
import Foundation

/// Builds payment page links: the public address, the invoice, and a fresh page token.
struct PaymentLinks: Sendable {
    let publicURL: String
    let tokens: PageToken
    let clock: BillingClock

    func url(for invoiceID: UUID, language: PageLanguage? = nil) -> String {
        let lang = language.map { "&lang=\($0.rawValue)" } ?? ""
        return "\(publicURL)/pay/\(invoiceID.lowercased)?t=\(tokens.issue(invoiceID: invoiceID, now: clock.now()))\(lang)"
    }

    /// The origin (scheme, host and port) pages are served from, for the Origin check on POSTs.
    var origin: String {
        guard let url = URLComponents(string: publicURL), let scheme = url.scheme, let host = url.host else { return publicURL }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }
}
