/// The 3-D Secure challenge a charge answers with, sending the cardholder to the sandbox's ACS page.
struct ThreeDSChallenge: Sendable {
    let transactionID: Int64
    let acsURL: String
    /// Opaque to the merchant, as the real one; it only names the transaction.
    let paReq: String
    let callbackID: String

    init(transactionID: Int64, endpoint: SandboxEndpoint) {
        self.transactionID = transactionID
        acsURL = endpoint.baseURL + "/acs/\(transactionID)"
        paReq = "sbx-pareq-\(transactionID)"
        callbackID = RandomText.hex(bytes: 16)
    }

    /// The `Model` of the `Success:false` answer that asks for 3-D Secure.
    var apiModel: JSONValue {
        .object([
            ("TransactionId", .number(String(transactionID))),
            ("PaReq", .string(paReq)),
            ("AcsUrl", .string(acsURL)),
            ("ThreeDsCallbackId", .string(callbackID)),
        ])
    }
}
