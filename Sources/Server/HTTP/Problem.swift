import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An RFC 9457 problem: every error the API returns has this shape and a stable `type`.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// A stable identifier clients can switch on, e.g. "/problems/already-subscribed".
    public var type: String
    public var title: String
    public var detail: String
    /// Headers the answer needs besides its body, such as `Retry-After` or `Allow`.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, type: String, title: String, detail: String, headers: HTTPFields = [:]) {
        self.status = status
        self.type = "/problems/" + type
        self.title = title
        self.detail = detail
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let document = Document(type: type, title: title, status: Int(status.code), detail: detail)
        let json = try Self.encoder.encode(document)
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private struct Document: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
    }
}

extension Problem {
    static func badRequest(_ detail: String) -> Problem {
        Problem(.badRequest, type: "bad-request", title: "The request is malformed", detail: detail)
    }

    static func invalid(_ detail: String) -> Problem {
        Problem(.unprocessableContent, type: "invalid-request", title: "The request is not valid", detail: detail)
    }

    /// A client's value quoted in a detail, cut short: a problem must not echo 60 KB back.
    static func quoted(_ value: String) -> String {
        value.count <= 64 ? "\"\(value)\"" : "\"\(value.prefix(64))…\" (\(value.utf8.count) bytes)"
    }

    static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, type: "not-found", title: "Not found", detail: detail)
    }

    /// The database is away: the client (or the acquirer, for a notification) retries.
    static let unavailable = Problem(.serviceUnavailable, type: "unavailable", title: "Temporarily unavailable", detail: "The service cannot reach its database right now; nothing was changed. Try again shortly.", headers: [.retryAfter: "5"])

    static let unauthorized = Problem(.unauthorized, type: "unauthorized", title: "Authentication required", detail: "Send a valid bearer token in the Authorization header.")
}
