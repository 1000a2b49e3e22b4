import Billing
import Foundation
import Hummingbird

/// Builds page links: the public address, the invoice or the viewer, and a fresh page token.
struct PaymentLinks: Sendable {
    let publicURL: String
    let tokens: PageToken
    let clock: BillingClock

    func url(for invoiceID: UUID, language: PageLanguage? = nil) -> String {
        let lang = language.map { "&lang=\($0.rawValue)" } ?? ""
        return "\(publicURL)/pay/\(invoiceID.lowercased)?t=\(tokens.issue(for: .invoice(invoiceID), now: clock.now()))\(lang)"
    }

    /// The viewer's account page, with a fresh token or, `expiringWith` another (valid) token,
    /// one that lives no longer than it.
    func accountURL(for userID: UUID, language: PageLanguage? = nil, expiringWith token: String? = nil) -> String {
        let lang = language.map { "&lang=\($0.rawValue)" } ?? ""
        let accountToken = token.flatMap(PageToken.expiry).map { tokens.issue(for: .account(userID), expiry: $0) }
            ?? tokens.issue(for: .account(userID), now: clock.now())
        return "\(publicURL)/account/\(userID.lowercased)?t=\(accountToken)\(lang)"
    }

    /// The origin (scheme, host and port) pages are served from, for the Origin check on POSTs.
    var origin: String {
        guard let url = URLComponents(string: publicURL), let scheme = url.scheme, let host = url.host else { return publicURL }
        return "\(scheme)://\(host)" + (url.port.map { ":\($0)" } ?? "")
    }

    /// Lets a page's POST act when it comes from our own origin with a current token for
    /// `subject`; 403 otherwise.
    func authorize(_ request: Request, token: String?, for subject: PageToken.Subject) throws {
        if let origin = request.headers[.origin], origin != self.origin {
            throw Problem(.forbidden, type: "cross-origin", title: "Cross-origin request", detail: "Page actions are accepted from \(self.origin) only.")
        }
        try requireValid(token, for: subject)
    }

    /// 403 unless `token` is a current one for `subject`.
    func requireValid(_ token: String?, for subject: PageToken.Subject) throws {
        guard tokens.isValid(token, for: subject, now: clock.now()) else { throw Self.linkExpired }
    }

    /// The answer to a page request without a current link.
    static var linkExpired: Problem {
        Problem(.forbidden, type: "page-token-invalid", title: "Link expired", detail: "This page needs a current link; open it from the Movix app again.")
    }
}
