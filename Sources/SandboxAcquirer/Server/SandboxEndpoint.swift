import NIOCore
import Synchronization

/// The sandbox's own base URL, for links it hands out (`AcsUrl`). The port is learnt once the server is listening,
/// because a sandbox started on port 0 (as in tests) only then knows it.
final class SandboxEndpoint: Sendable {
    private let configuredHost: String
    private let address: Mutex<(host: String, port: Int)>

    init(host: String, port: Int) {
        configuredHost = host
        address = Mutex((Self.reachableHost(host), port))
    }

    func recordListening(on socketAddress: SocketAddress?) {
        guard let port = socketAddress?.port else { return }
        let host = socketAddress?.ipAddress.map(Self.reachableHost) ?? Self.reachableHost(configuredHost)
        address.withLock { $0 = (host, port) }
    }

    var baseURL: String {
        address.withLock { "http://\($0.host):\($0.port)" }
    }

    /// A wildcard bind address cannot be browsed to; loopback is the useful stand-in.
    private static func reachableHost(_ host: String) -> String {
        switch host {
        case "0.0.0.0", "::", "": "127.0.0.1"
        case _ where host.contains(":"): "[\(host)]"
        default: host
        }
    }
}
