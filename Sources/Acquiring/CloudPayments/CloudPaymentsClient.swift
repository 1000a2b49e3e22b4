import AsyncHTTPClient
import BillingCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOFoundationCompat

/// CloudPayments' HTTP API: Basic auth, JSON bodies, `X-Request-ID` idempotency, every call logged.
struct CloudPaymentsClient: Sendable {
    let configuration: CloudPaymentsConfiguration
    let httpClient: HTTPClient
    let log: any AcquiringLog

    /// Posts `fields` to `path` and decodes the envelope. Throws `AcquirerUnavailable` when no
    /// well-formed answer came back, because then the outcome is unknown.
    func call(_ path: String, fields: [(String, CloudPaymentsField)], requestID: String?, invoiceID: String?) async throws -> CloudPaymentsEnvelope {
        var request = HTTPClientRequest(url: configuration.apiURL + path)
        request.method = .POST
        let credentials = Data("\(configuration.publicID):\(configuration.apiSecret)".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let requestID { request.headers.add(name: "X-Request-ID", value: requestID) }
        let body = try JSONSerialization.data(withJSONObject: Dictionary(fields.map { ($0.0, $0.1.jsonValue) }, uniquingKeysWith: { $1 }), options: [.sortedKeys])
        request.body = .bytes(ByteBuffer(bytes: body))

        let started = ContinuousClock.now
        var entry = AcquiringLogEntry(
            acquirer: CloudPaymentsAcquirer.acquirerName, direction: .request, operation: path,
            invoiceID: invoiceID, payload: "request: " + FormEncoding.encode(redacted(fields.map { ($0.0, $0.1.text) }))
        )
        do {
            let response = try await httpClient.execute(request, timeout: .init(configuration.requestTimeout))
            let responseBody = try await response.body.collect(upTo: 1 << 20)
            entry.httpStatus = Int(response.status.code)
            entry.durationMilliseconds = Self.milliseconds(since: started)
            entry.payload += "\nresponse: " + Self.redactedJSON(responseBody)
            guard response.status == .ok else {
                throw AcquirerUnavailable(operation: path, detail: "HTTP \(response.status.code)")
            }
            let envelope = try JSONDecoder().decode(CloudPaymentsEnvelope.self, from: Data(buffer: responseBody))
            entry.transactionID = envelope.Model?.TransactionId.map(String.init)
            entry.code = envelope.Model?.ReasonCode.map(String.init) ?? (envelope.Success ? "0" : nil)
            entry.message = envelope.Message ?? envelope.Model?.Status
            // Recorded before the caller acts on the outcome.
            await log.record(entry)
            return envelope
        } catch {
            entry.durationMilliseconds = entry.durationMilliseconds ?? Self.milliseconds(since: started)
            entry.message = (error as? AcquirerUnavailable)?.detail ?? "\(error)"
            await log.record(entry)
            throw error as? AcquirerUnavailable ?? AcquirerUnavailable(operation: path, detail: "\(error)")
        }
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> Int {
        Int((ContinuousClock.now - start).wholeMilliseconds)
    }

    /// Removes tokens from a JSON response before it is logged.
    private static func redactedJSON(_ buffer: ByteBuffer) -> String {
        let text = String(buffer: buffer)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) else { return text }
        let cleaned = scrub(object)
        guard let data = try? JSONSerialization.data(withJSONObject: cleaned, options: [.sortedKeys]) else { return text }
        return String(decoding: data, as: UTF8.self)
    }

    private static func scrub(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]:
            object.reduce(into: [String: Any]()) { result, item in
                result[item.key] = secretFieldNames.contains(item.key.lowercased()) ? "[redacted]" : scrub(item.value)
            }
        case let array as [Any]: array.map(scrub)
        default: value
        }
    }
}
