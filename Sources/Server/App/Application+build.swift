import Acquiring
import AsyncHTTPClient
import Billing
import BillingCore
import Foundation
import Hummingbird
import JWTKit
import Logging
import Mustache
import NIOCore
import Prometheus
import Storage

/// Builds the billing HTTP application: routes, middleware and the services behind them.
public func buildApplication(
    configuration: ServerConfiguration,
    database: Database,
    httpClient: HTTPClient,
    metricsRegistry: PrometheusCollectorRegistry,
    clock: BillingClock = .system,
    clockControl: OffsetClock? = nil,
    onClockAdvance: @escaping @Sendable () async -> Void = {},
    logger: Logger,
    onServerRunning: @escaping @Sendable () async -> Void = {}
) async throws -> some ApplicationProtocol {
    let router = try await buildRouter(
        configuration: configuration, database: database, httpClient: httpClient, metricsRegistry: metricsRegistry,
        clock: clock, clockControl: clockControl, onClockAdvance: onClockAdvance, logger: logger
    )
    let limits = configuration.limits
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: TimeAmount(limits.idleTimeout))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "movix-billing",
            availableConnectionsDelegate: .maximum(limits.maxConnections, logger: logger)
        ),
        onServerRunning: { _ in await onServerRunning() },
        logger: logger
    )
}

/// Every route of the service with its middleware; the OpenAPI test reads its route list.
/// `clockControl`, the clock behind `clock` when it may be moved, adds the route that moves it;
/// `onClockAdvance` runs after each move (the in-process worker runs what became due).
public func buildRouter(
    configuration: ServerConfiguration,
    database: Database,
    httpClient: HTTPClient,
    metricsRegistry: PrometheusCollectorRegistry,
    clock: BillingClock = .system,
    clockControl: OffsetClock? = nil,
    onClockAdvance: @escaping @Sendable () async -> Void = {},
    logger: Logger
) async throws -> Router<BillingRequestContext> {
    let services = makeBillingServices(
        cloudPayments: configuration.cloudPayments, database: database, httpClient: httpClient, clock: clock,
        refundPolicy: configuration.refundPolicy, renewalTerms: configuration.renewalTerms, logger: logger
    )
    let keys = try await JWTKeyCollection.movix(configuration.tokenVerification)
    let links = PaymentLinks(publicURL: configuration.publicURL, tokens: PageToken(secret: configuration.internalToken), clock: clock)
    let templates = try await MustacheLibrary(directory: try ServerResources.path("templates"))

    let router = Router(context: BillingRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: RequestLimitsMiddleware(limits: configuration.limits))

    OpsController(database: database, registry: metricsRegistry, openAPIDocument: try ServerResources.text("openapi.yaml"), clock: clock)
        .addRoutes(to: router)

    let claims = ExpectedClaims(algorithm: configuration.tokenVerification.algorithm, audience: configuration.jwtAudience, issuer: configuration.jwtIssuer)
    let api = router.group("v1").add(middleware: UserAuthenticationMiddleware(keys: keys, expected: claims))
    PlansController(services: services).addRoutes(to: api.group("plans"))
    CheckoutController(services: services, links: links).addRoutes(to: api.group("checkout"))
    AccountController(services: services, links: links).addRoutes(to: api)

    let internalAPI = router.group("internal/v1").add(middleware: InternalTokenMiddleware(token: configuration.internalToken))
    EntitlementsController(services: services).addRoutes(to: internalAPI)
    OperatorController(services: services).addRoutes(to: internalAPI)
    WebhookEndpointsController(services: services).addRoutes(to: internalAPI.group("webhook-endpoints"))
    EventsController(services: services).addRoutes(to: internalAPI.group("events"))
    if let clockControl { ClockController(clock: clockControl, afterAdvance: onClockAdvance).addRoutes(to: internalAPI) }

    WebhooksController(notifications: NotificationService(services: services)).addRoutes(to: router.group("webhooks"))
    let headers = PageSecurityHeaders(widgetScriptURL: configuration.cloudPayments.widgetScriptURL, webOrigin: configuration.webOrigin)
    PaymentPageController(services: services, templates: templates, links: links, watchURL: configuration.watchURL, securityHeaders: headers)
        .addRoutes(to: router.group("pay"))
    AccountPageController(services: services, templates: templates, links: links, securityHeaders: headers)
        .addRoutes(to: router.group("account"))
    if let demoUserID = configuration.demoUserID {
        DemoController(services: services, templates: templates, links: links, demoUserID: demoUserID, securityHeaders: headers)
            .addRoutes(to: router.group("demo"))
    }
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
    return router
}

/// The use cases' collaborators for this deployment: its database and its acquirers.
public func makeBillingServices(
    cloudPayments configuration: CloudPaymentsConfiguration, database: Database, httpClient: HTTPClient, clock: BillingClock = .system,
    refundPolicy: RefundPolicy = .prorated, renewalTerms: RenewalTerms = .standard, logger: Logger
) -> BillingServices {
    let acquiringLog = PostgresAcquiringLog(database: database)
    let cloudPayments = CloudPaymentsAcquirer(configuration: configuration, httpClient: httpClient, log: acquiringLog)
    return BillingServices(
        database: database, acquirers: AcquirerRegistry(primary: cloudPayments), acquiringLog: acquiringLog, clock: clock,
        refundPolicy: refundPolicy, renewalTerms: renewalTerms, logger: logger
    )
}

/// Files shipped inside the Server module.
enum ServerResources {
    static func path(_ name: String) throws -> String {
        let path = Bundle.module.bundleURL.appendingPathComponent("Resources").appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else { throw ResourceMissing(name: name) }
        return path
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: try path(name), encoding: .utf8)
    }

    /// A resource file is not where the build put it.
    struct ResourceMissing: Error, CustomStringConvertible {
        var name: String
        var description: String { "resource \(name) is missing from the Server bundle" }
    }
}
