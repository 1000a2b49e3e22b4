import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// A stand-in merchant: records every notification the sandbox sends and answers it with `{"code":N}`.
actor NotificationRecorder {
    struct Received: Sendable {
        let kind: String
        let body: String
        let contentHMAC: String?
        let decodedContentHMAC: String?

        var fields: [String: String] {
            Dictionary(FormBody.decode(body), uniquingKeysWith: { _, last in last })
        }
    }

    private var received: [Received] = []
    private let checkCode: Int

    init(checkCode: Int) {
        self.checkCode = checkCode
    }

    nonisolated func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("webhooks/cloudpayments/:kind") { request, context in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let kind = try context.parameters.require("kind")
            let code = await self.record(Received(
                kind: kind,
                body: body,
                contentHMAC: request.headers[HTTPField.Name("Content-HMAC")!],
                decodedContentHMAC: request.headers[HTTPField.Name("X-Content-HMAC")!]
            ))
            return "{\"code\":\(code)}"
        }
        return router
    }

    private func record(_ notification: Received) -> Int {
        received.append(notification)
        return notification.kind == "check" ? checkCode : 0
    }

    func all(_ kind: String) -> [Received] {
        received.filter { $0.kind == kind }
    }

    /// Waits until at least `count` notifications of `kind` have arrived.
    func waitFor(_ kind: String, count: Int = 1, timeout: Duration = .seconds(5)) async throws -> [Received] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            let matching = all(kind)
            if matching.count >= count { return matching }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("Expected \(count) \(kind) notification(s), got \(all(kind).count)")
        return all(kind)
    }
}
