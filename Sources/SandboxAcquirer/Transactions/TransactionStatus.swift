/// A transaction's `Status`, with its numeric `StatusCode`.
enum TransactionStatus: String, Sendable {
    case awaitingAuthentication = "AwaitingAuthentication"
    case authorized = "Authorized"
    case completed = "Completed"
    case cancelled = "Cancelled"
    case declined = "Declined"

    var code: Int {
        switch self {
        case .awaitingAuthentication: 1
        case .authorized: 2
        case .completed: 3
        case .cancelled: 4
        case .declined: 5
        }
    }
}
