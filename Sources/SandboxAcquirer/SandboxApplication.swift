import AsyncHTTPClient
import Hummingbird
import Logging

/// Builds the sandbox acquirer: a CloudPayments-compatible API, 3-D Secure page, card form and widget script on one
/// HTTP server, with its notification dispatcher as a service of the same application. All state is in memory.
public func buildSandboxApplication(configuration: SandboxConfiguration, logger: Logger) -> some ApplicationProtocol {
    let faults = FaultSwitchboard(configuration.faults)
    let transactions = TransactionStore()
    let vault = TokenVault()
    let endpoint = SandboxEndpoint(host: configuration.host, port: configuration.port)
    let sender = NotificationSender(
        baseURL: configuration.notificationBaseURL, apiSecret: configuration.apiSecret, httpClient: .shared
    )
    let dispatcher = NotificationDispatcher(
        sender: sender, faults: faults, retrySchedule: configuration.retrySchedule, logger: logger
    )
    let processor = PaymentProcessor(
        transactions: transactions, vault: vault, checkGate: CheckGate(sender: sender, logger: logger),
        dispatcher: dispatcher, endpoint: endpoint, logger: logger
    )

    let router = Router(context: SandboxRequestContext.self)
    let authenticated = router.group()
        .add(middleware: BasicAuthMiddleware(publicID: configuration.publicID, apiSecret: configuration.apiSecret))
    let api = authenticated.group()
        .add(middleware: FaultInjectionMiddleware(faults: faults))
    APIRoutes(
        processor: processor,
        operations: TransactionOperations(transactions: transactions, dispatcher: dispatcher, faults: faults),
        transactions: transactions,
        vault: vault,
        idempotency: IdempotencyCache(),
        faults: faults
    ).register(on: api)
    ControlRoutes(faults: faults).register(on: router, authenticated: authenticated)
    ACSRoutes(transactions: transactions).register(on: router)
    HostedFormRoutes(processor: processor, publicID: configuration.publicID).register(on: router)

    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "CloudPayments-Sandbox"
        ),
        services: [dispatcher],
        onServerRunning: { channel in endpoint.recordListening(on: channel.localAddress) },
        logger: logger
    )
}
