/// How a payment attempt ended for now: settled either way, or waiting for the cardholder at 3-D Secure.
enum PaymentOutcome: Sendable {
    case approved(Transaction)
    case declined(Transaction)
    case challenge(Transaction, ThreeDSChallenge)

    /// A decline and a 3-D Secure challenge are both `Success:false` with a `Model` and no `Message`, as in CloudPayments.
    var apiResponse: APIResponse {
        switch self {
        case .approved(let transaction): .success(model: transaction.apiModel)
        case .declined(let transaction): APIResponse(success: false, message: nil, model: transaction.apiModel)
        case .challenge(_, let challenge): APIResponse(success: false, message: nil, model: challenge.apiModel)
        }
    }
}
