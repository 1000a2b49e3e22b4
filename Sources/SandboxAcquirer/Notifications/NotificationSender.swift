import AsyncHTTPClient
import Foundation
import NIOCore

/// Makes one delivery attempt of a notification: a signed form POST, answered by the merchant's `{"code":N}`.
struct NotificationSender: Sendable {
    let baseURL: String
    let apiSecret: String
    let httpClient: HTTPClient

    /// Why an attempt did not produce a merchant code.
    enum DeliveryError: Error, CustomStringConvertible {
        case httpStatus(UInt)
        case unreadableAnswer

        var description: String {
            switch self {
            case .httpStatus(let code): "HTTP \(code)"
            case .unreadableAnswer: "the answer is not {\"code\":N}"
            }
        }
    }

    /// An empty base URL means there is no merchant to notify.
    var isEnabled: Bool { !baseURL.isEmpty }

    func url(for kind: MerchantNotification.Kind) -> String {
        (baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL) + "/" + kind.rawValue
    }

    /// Returns the merchant's code; any transport failure, non-200 status or other answer throws.
    func send(_ notification: MerchantNotification, timeout: Duration) async throws -> Int {
        let body = FormURLEncoding.encode(notification.fields)
        let signature = NotificationSignature(body: body, fields: notification.fields, secret: apiSecret)
        var request = HTTPClientRequest(url: url(for: notification.kind))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        request.headers.add(name: "Content-HMAC", value: signature.contentHMAC)
        request.headers.add(name: "X-Content-HMAC", value: signature.decodedContentHMAC)
        request.body = .bytes(ByteBuffer(string: body))

        let response = try await httpClient.execute(request, timeout: TimeAmount(timeout))
        let answer = try await response.body.collect(upTo: 64 * 1024)
        guard response.status == .ok else { throw DeliveryError.httpStatus(response.status.code) }
        guard let reply = try? JSONDecoder().decode(MerchantReply.self, from: Data(String(buffer: answer).utf8)) else {
            throw DeliveryError.unreadableAnswer
        }
        return reply.code
    }

    private struct MerchantReply: Decodable {
        let code: Int
    }
}
