import AsyncHTTPClient
import Billing
import BillingCore
import Foundation
import NIOCore
import Storage
import Synchronization

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
        let elapsed: @Sendable () -> Int = { Int((ContinuousClock.now - started).wholeMilliseconds) }
        guard Self.isDeliverable(message.endpoint.url) else {
            return Outcome(delivered: false, statusCode: nil, error: "the endpoint's URL cannot be delivered to (port outside 1-65535?)", durationMilliseconds: 0)
        }
        // The whole exchange, the answer's body included, within `timeout`: a receiver that sends
        // its headers and then trickles (or never ends) its body must not hold a slot for ever.
        // Its status, once known, decides: a 2xx whose body never ends was still taken.
        let status = ReceivedStatus()
        let signed = request
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask { await exchange(signed, status: status, elapsed: elapsed) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                guard let code = status.code else { return Outcome(delivered: false, statusCode: nil, error: "timed out", durationMilliseconds: elapsed()) }
                let taken = (200..<300).contains(code)
                return Outcome(delivered: taken, statusCode: code, error: taken ? nil : "HTTP \(code), then no end to its body", durationMilliseconds: elapsed())
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    /// Sends the request and reads the start of the answer (for the record of a refusal) and at
    /// most 64 KiB of it: a receiver's body is not ours to keep.
    private func exchange(_ request: HTTPClientRequest, status: ReceivedStatus, elapsed: @Sendable () -> Int) async -> Outcome {
        do {
            let response = try await httpClient.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
            let code = Int(response.status.code)
            status.code = code
            var excerpt = ""
            var read = 0
            for try await chunk in response.body {
                if excerpt.count < 200 { excerpt += String(buffer: chunk).prefix(200 - excerpt.count) }
                read += chunk.readableBytes
                if read >= 64 * 1024 { break }
            }
            guard (200..<300).contains(code) else {
                let shown = excerpt.filter { !$0.isNewline }
                return Outcome(delivered: false, statusCode: code, error: "HTTP \(code)" + (shown.isEmpty ? "" : ": \(shown)"), durationMilliseconds: elapsed())
            }
            return Outcome(delivered: true, statusCode: code, error: nil, durationMilliseconds: elapsed())
        } catch {
            // Cancelled at the deadline: the other task's outcome is the one used.
            return Outcome(delivered: false, statusCode: status.code, error: Self.describe(error), durationMilliseconds: elapsed())
        }
    }

    /// Whether a URL can be handed to the HTTP client: http(s), a host, a port in 1-65535.
    static func isDeliverable(_ url: URL) -> Bool {
        guard let parts = URLComponents(url: url, resolvingAgainstBaseURL: false), let scheme = parts.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parts.host, !host.isEmpty
        else { return false }
        return parts.port.map { (1...65535).contains($0) } ?? true
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

/// The status code of an answer, once its headers arrived.
final class ReceivedStatus: Sendable {
    private let value = Mutex<Int?>(nil)

    var code: Int? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
