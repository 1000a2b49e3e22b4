import Hummingbird

/// The CloudPayments envelope, `{"Success":…,"Message":…,"Model":…}`, with the HTTP status it goes out with.
struct APIResponse: Sendable {
    var success: Bool
    var message: String?
    var model: JSONValue?
    var status: HTTPResponse.Status = .ok

    static func success(model: JSONValue? = nil, message: String? = nil) -> APIResponse {
        APIResponse(success: true, message: message, model: model)
    }

    static func failure(_ error: RequestError) -> APIResponse {
        APIResponse(success: false, message: error.message, model: nil)
    }

    /// A transaction that was asked for (`/payments/get`, `/v2/payments/find`). `Success` follows the payment as it does
    /// when paying: a declined one is `Success:false` with its `Model`, anything else `Success:true`.
    static func lookedUp(_ transaction: Transaction) -> APIResponse {
        APIResponse(success: transaction.status != .declined, message: nil, model: transaction.apiModel)
    }

    /// `Message` is always present (null when empty) and `Model` only when there is one, as the real API answers.
    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("Success", .bool(success)), ("Message", .optionalString(message))]
        if let model { members.append(("Model", model)) }
        return .object(members)
    }

    var httpResponse: Response {
        .json(json, status: status)
    }
}

extension Response {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized))
        )
    }
}
