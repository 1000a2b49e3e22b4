import Foundation

/// The cardholder's answer at the ACS page, carried back to the merchant as `PaRes` and on to `/payments/cards/post3ds`.
struct AuthenticationResult: Sendable, Equatable {
    /// What the cardholder pressed on the sandbox's 3-D Secure page.
    enum Decision: String, Sendable {
        case confirm
        case reject
    }

    let transactionID: Int64
    let decision: Decision

    private static let prefix = "sbx1."

    /// `sbx1.` + base64url of `<TransactionId>:<decision>`; the transaction id inside stops a PaRes from one
    /// payment completing another.
    var paRes: String {
        Self.prefix + Data("\(transactionID):\(decision.rawValue)".utf8).base64URLEncodedString
    }

    init(transactionID: Int64, decision: Decision) {
        self.transactionID = transactionID
        self.decision = decision
    }

    init?(paRes: String) {
        guard paRes.hasPrefix(Self.prefix), let data = Data(base64URLEncoded: String(paRes.dropFirst(Self.prefix.count))) else {
            return nil
        }
        let parts = String(decoding: data, as: UTF8.self).split(separator: ":")
        guard parts.count == 2, let id = Int64(parts[0]), let decision = Decision(rawValue: String(parts[1])) else { return nil }
        self.init(transactionID: id, decision: decision)
    }
}
