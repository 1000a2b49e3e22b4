import Crypto
import Foundation

/// A short-lived capability for one invoice's payment page: whoever holds the page link may look
/// at it and pay with a new card at the acquirer, but charging a saved card or starting a new
/// invoice needs this token, which comes only with a link our API just handed to the viewer.
/// It also serves as the page's CSRF token: another site cannot read it.
struct PageToken: Sendable {
    /// How long a link's token lets the page act.
    static let lifetime: TimeInterval = 60 * 60

    let key: SymmetricKey

    /// The key is derived from a server secret, so there is no separate one to configure.
    init(secret: String) {
        key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("movix-page-token".utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// `<expiry unix seconds>.<base64url HMAC of invoice and expiry>`.
    func issue(invoiceID: UUID, now: Date) -> String {
        let expiry = Int64(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970)
        return "\(expiry).\(mac(invoiceID: invoiceID, expiry: expiry))"
    }

    /// Whether `token` was issued for this invoice and has not expired; comparison in constant time.
    func isValid(_ token: String?, invoiceID: UUID, now: Date) -> Bool {
        guard let token, let dot = token.firstIndex(of: "."), token[..<dot].allSatisfy({ $0.isASCII && $0.isNumber }),
              !token.hasPrefix("0"), let expiry = Int64(token[..<dot]),
              Double(expiry) > now.timeIntervalSince1970,
              let given = Data(base64URL: String(token[token.index(after: dot)...]))
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: message(invoiceID: invoiceID, expiry: expiry), using: key)
    }

    private func message(invoiceID: UUID, expiry: Int64) -> Data {
        Data("pay:\(invoiceID.uuidString.lowercased()):\(expiry)".utf8)
    }

    private func mac(invoiceID: UUID, expiry: Int64) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: message(invoiceID: invoiceID, expiry: expiry), using: key)).base64URLEncodedString()
    }
}

extension Data {
    /// Base64url without padding.
    func base64URLEncodedString() -> String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
