import Crypto
import Foundation

/// A short-lived capability for a page, which comes only with a link our API or one of our pages
/// just handed to the viewer. On an invoice's payment page whoever holds the link may look and pay
/// with a new card at the acquirer, but charging a saved card or starting a new invoice needs the
/// token; a viewer's account page shows and does nothing without it. It also serves as the pages'
/// CSRF token: another site cannot read it.
struct PageToken: Sendable {
    /// What a token opens.
    enum Subject {
        case invoice(UUID)
        case account(UUID)

        var text: String {
            switch self {
            case .invoice(let id): "pay:\(id.lowercased)"
            case .account(let userID): "account:\(userID.lowercased)"
            }
        }
    }

    /// How long a link's token lets the page act.
    static let lifetime: TimeInterval = 60 * 60

    let key: SymmetricKey

    /// The key is derived from a server secret, so there is no separate one to configure.
    init(secret: String) {
        key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Data("movix-page-token".utf8), using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// `<expiry unix seconds>.<base64url HMAC of subject and expiry>`.
    func issue(for subject: Subject, now: Date) -> String {
        issue(for: subject, expiry: Int64(now.addingTimeInterval(Self.lifetime).timeIntervalSince1970))
    }

    /// A token that expires with another one (`expiry(of:)`), so passing from one page to the
    /// next never makes a link live longer than the one it came from.
    func issue(for subject: Subject, expiry: Int64) -> String {
        "\(expiry).\(mac(subject, expiry: expiry))"
    }

    /// When a token expires, as it says (check it with `isValid` first).
    static func expiry(of token: String) -> Int64? {
        token.split(separator: ".", maxSplits: 1).first.flatMap { Int64($0) }
    }

    /// Whether `token` was issued for this subject and has not expired; comparison in constant time.
    func isValid(_ token: String?, for subject: Subject, now: Date) -> Bool {
        guard let token, let dot = token.firstIndex(of: "."), token[..<dot].allSatisfy({ $0.isASCII && $0.isNumber }),
              !token.hasPrefix("0"), let expiry = Int64(token[..<dot]),
              Double(expiry) > now.timeIntervalSince1970,
              let given = Data(base64URL: String(token[token.index(after: dot)...]))
        else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: message(subject, expiry: expiry), using: key)
    }

    private func message(_ subject: Subject, expiry: Int64) -> Data {
        Data("\(subject.text):\(expiry)".utf8)
    }

    private func mac(_ subject: Subject, expiry: Int64) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: message(subject, expiry: expiry), using: key)).base64URLEncodedString()
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
