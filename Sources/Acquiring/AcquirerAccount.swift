import BillingCore
import Crypto
import Foundation

/// The account id acquirers see for a viewer (`AccountId` in CloudPayments): stable, so saved
/// cards stay tied to it, and not the Movix user id itself, because it is embedded in the payment
/// page that anyone holding the link can read.
public enum AcquirerAccount {
    /// `acc_` and 32 hex digits of SHA-256 over the user id; migration 0003 computes the same in SQL.
    public static func id(for userID: UUID) -> String {
        let digest = SHA256.hash(data: Data(("movix-account/" + userID.lowercased).utf8))
        return "acc_" + digest.prefix(16).map { String(format: "%02x", $0) }.joined()
    }
}
