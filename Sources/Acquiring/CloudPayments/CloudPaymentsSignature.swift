import Crypto
import Foundation

/// CloudPayments' notification signature: base64(HMAC-SHA256(API secret, message)).
struct CloudPaymentsSignature: Sendable {
    let key: SymmetricKey

    init(apiSecret: String) {
        key = SymmetricKey(data: Data(apiSecret.utf8))
    }

    func sign(_ message: some DataProtocol) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: message, using: key)).base64EncodedString()
    }

    /// Checks `Content-HMAC` over the raw body, or else `X-Content-HMAC` over the URL-decoded
    /// body; both comparisons run in constant time.
    func isValid(headers: [String: String], body: [UInt8]) -> Bool {
        if let signature = headers["content-hmac"].flatMap({ Data(base64Encoded: $0) }) {
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: body, using: key)
        }
        if let signature = headers["x-content-hmac"].flatMap({ Data(base64Encoded: $0) }) {
            let decoded = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(decoded.utf8), using: key)
        }
        return false
    }
}
