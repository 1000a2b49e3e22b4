/// Whether a payment is captured at once (`charge`) or only held until `/payments/confirm` (`auth`).
enum CaptureMode: String, Sendable {
    case charge
    case auth

    var approvedStatus: TransactionStatus {
        self == .charge ? .completed : .authorized
    }
}
