import Crypto
import Foundation

/// CloudPayments' notification signatures: base64(HMAC-SHA256(API secret, message)).
struct NotificationSignature: Sendable {
    /// Over the body bytes exactly as sent (`Content-HMAC`).
    let contentHMAC: String
    /// Over the URL-decoded `k=v&k=v` text (`X-Content-HMAC`), for merchants whose framework has already decoded the form.
    let decodedContentHMAC: String

    init(body: String, fields: [(key: String, value: String)], secret: String) {
        let key = SymmetricKey(data: Data(secret.utf8))
        let decoded = fields.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        contentHMAC = Self.sign(body, key: key)
        decodedContentHMAC = Self.sign(decoded, key: key)
    }

    private static func sign(_ message: String, key: SymmetricKey) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: key)).base64EncodedString()
    }
}
