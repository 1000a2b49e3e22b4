import Acquiring
import Billing
import Hummingbird
import NIOCore

/// `POST /webhooks/{acquirer}/{kind}`: payment notifications from acquirers.
struct WebhooksController {
    let notifications: NotificationService

    func addRoutes(to group: RouterGroup<BillingRequestContext>) {
        group.post(":acquirer/:kind", use: receive)
    }

    @Sendable func receive(_ request: Request, context: BillingRequestContext) async throws -> Response {
        // The raw bytes, untouched: the signature covers them exactly as sent.
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let incoming = IncomingNotification(
            kind: try context.parameters.require("kind"), headers: headers,
            body: Array(buffer: body), contentType: request.headers[.contentType],
            remoteAddress: context.remoteAddress?.ipAddress
        )
        let reply = try await notifications.handle(incoming, acquirerName: try context.parameters.require("acquirer"))
        return Response(
            status: .ok,
            headers: [.contentType: reply.contentType],
            body: .init(byteBuffer: ByteBuffer(string: reply.body))
        )
    }
}
