/// A request the sandbox refuses as CloudPayments would: HTTP 200 with `Success:false` and this `Message`.
struct RequestError: Error, Sendable {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    static let notFound = RequestError("Not found")
}
