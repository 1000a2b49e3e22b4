import Foundation
import Hummingbird
import Prometheus
import Storage

/// Health probes, Prometheus metrics and the OpenAPI contract.
struct OpsController {
    let database: Database
    let registry: PrometheusCollectorRegistry
    let openAPIDocument: String

    func addRoutes(to router: Router<BillingRequestContext>) {
        router.get("health/live", use: live)
        router.get("health/ready", use: ready)
        router.get("metrics", use: metrics)
        router.get("openapi.yaml", use: openAPI)
    }

    /// A probe's answer.
    struct Health: ResponseEncodable {
        var status: String
    }

    @Sendable func live(_ request: Request, context: BillingRequestContext) -> Health {
        Health(status: "ok")
    }

    @Sendable func ready(_ request: Request, context: BillingRequestContext) async throws -> Health {
        // Within a second, whatever the database does: an orchestrator's probe must not hang, and
        // a database that cannot hand out a connection in half a second is not ready to serve.
        guard await database.ping(within: .milliseconds(500)) else {
            throw Problem(.serviceUnavailable, type: "not-ready", title: "Not ready", detail: "The database does not answer.", headers: [.retryAfter: "5"])
        }
        return Health(status: "ok")
    }

    @Sendable func metrics(_ request: Request, context: BillingRequestContext) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: .init(bytes: registry.emitToBuffer()))
        )
    }

    @Sendable func openAPI(_ request: Request, context: BillingRequestContext) -> Response {
        Response(status: .ok, headers: [.contentType: "application/yaml"], body: .init(byteBuffer: .init(string: openAPIDocument)))
    }
}
