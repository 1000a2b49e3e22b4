import Hummingbird
import NIOCore

/// The request context of the sandbox's routes; it keeps the client's address, which the hosted form reports as `IpAddress`.
struct SandboxRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
