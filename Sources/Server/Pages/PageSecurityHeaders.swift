import Foundation
import HTTPTypes
import Hummingbird

/// The headers that keep the payment page to itself: scripts only from us (by nonce) and the
/// acquirer's widget, framing only by the Movix web app, no referrer to other sites (the link carries a token).
struct PageSecurityHeaders: Sendable {
    /// Origin of the acquirer's widget script, which also frames its card form.
    let widgetOrigin: String
    /// The Movix web app's origin; nil: nobody may frame the page.
    let webOrigin: String?

    init(widgetScriptURL: String, webOrigin: String?) {
        let url = URLComponents(string: widgetScriptURL)
        widgetOrigin = url.flatMap { url in url.scheme.flatMap { scheme in url.host.map { "\(scheme)://\($0)" + (url.port.map { ":\($0)" } ?? "") } } } ?? "'none'"
        self.webOrigin = webOrigin
    }

    /// A fresh nonce for one page's script.
    func nonce() -> String {
        Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }

    func policy(nonce: String) -> String {
        [
            "default-src 'self'",
            "script-src 'self' 'nonce-\(nonce)' \(widgetOrigin)",
            "style-src 'self' 'unsafe-inline' \(widgetOrigin)",
            "img-src 'self' data: \(widgetOrigin)",
            "connect-src 'self' \(widgetOrigin)",
            "frame-src \(widgetOrigin)",
            "frame-ancestors \(webOrigin ?? "'none'")",
            "base-uri 'none'",
            "form-action 'self'",
        ].joined(separator: "; ")
    }

    func response(html: String, nonce: String) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[HTTPField.Name("Content-Security-Policy")!] = policy(nonce: nonce)
        // The link's token never leaves for another site; `same-origin` rather than `no-referrer`
        // because under that a browser posts our own forms with `Origin: null`, which the origin
        // check of page actions refuses.
        headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: html)))
    }
}
