import AsyncHTTPClient
import Billing
import BillingCore
import Foundation
import NIOCore
import Storage

/// Sends one webhook message: a POST of the event's envelope, signed with the endpoint's secret
/// (`WebhookSignature`), answered within `timeout`. Any 2xx is delivered; anything else, or no
/// answer, is a failure to try again.
struct WebhookSender: Sendable {
    let httpClient: HTTPClient
    let timeout: Duration

    /// What became of one attempt.
    struct Outcome: Sendable {
        var delivered: Bool
        var statusCode: Int?
        var error: String?
        var durationMilliseconds: Int
    }

    func send(_ message: WebhookMessageRepository.Claimed) async -> Outcome {
        let body = EventEnvelope.json(message.event)
        var request = HTTPClientRequest(url: message.endpoint.url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Movix-Billing-Webhooks/1")
        request.headers.add(name: "Movix-Event-Id", value: message.event.id.lowercased)
        request.headers.add(name: "Movix-Event-Type", value: message.event.type.rawValue)
        request.headers.add(name: "Movix-Delivery-Attempt", value: String(message.attempt))
        // Real time, whatever the service's clock says: receivers compare it with their own clocks.
        let timestamp = Int64(Date().timeIntervalSince1970)
        request.headers.add(name: "Movix-Signature", value: WebhookSignature.header(secret: message.endpoint.secret, timestamp: timestamp, body: Data(body.utf8)))
        request.body = .bytes(ByteBuffer(string: body))

        let started = ContinuousClock.now
        func elapsed() -> Int { Int((ContinuousClock.now - started).wholeMilliseconds) }
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
            // Read a little of the answer, for the record of a refusal; a receiver's body is not ours to keep.
            let answer = try await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            guard (200..<300).contains(status) else {
                let excerpt = String(buffer: answer).prefix(200).filter { !$0.isNewline }
                return Outcome(delivered: false, statusCode: status, error: "HTTP \(status)" + (excerpt.isEmpty ? "" : ": \(excerpt)"), durationMilliseconds: elapsed())
            }
            return Outcome(delivered: true, statusCode: status, error: nil, durationMilliseconds: elapsed())
        } catch {
            return Outcome(delivered: false, statusCode: nil, error: Self.describe(error), durationMilliseconds: elapsed())
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return "timed out"
        }
        return String(describing: error).prefix(300).description
    }
}

extension Duration {
    /// The duration in whole nanoseconds.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
