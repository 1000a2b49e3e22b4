import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server standing in for another Movix service that receives webhooks: it records
/// every request it gets and answers 500 to the first `failures` of them, then 200 (with a body of
/// `answerBytes`, or, when `trickles`, a first byte and then nothing more for 5 s).
final class WebhookReceiver: Sendable {
    /// One request as it arrived.
    struct Received: Sendable {
        var eventID: String
        var eventType: String
        var signature: String
        var body: String
        var arrivedAt: Date
        var status: Int

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:] }
    }

    private let log = Mutex<[Received]>([])
    private let failures: Int
    private let answerBytes: Int
    private let trickles: Bool
    let port: Int

    init(failures: Int = 0, answerBytes: Int = 2, trickles: Bool = false) throws {
        self.failures = failures
        self.answerBytes = answerBytes
        self.trickles = trickles
        port = try freePort()
    }

    var url: String { "http://127.0.0.1:\(port)/hooks/billing" }

    /// Everything received so far, in order of arrival.
    var received: [Received] { log.withLock { $0 } }

    /// The 2xx-answered deliveries.
    var accepted: [Received] { received.filter { $0.status == 200 } }

    /// Runs the receiver while `body` runs.
    func serving<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
        let router = Router()
        router.post("hooks/billing") { request, context -> Response in
            let payload = try await request.body.collect(upTo: 1 << 20)
            let status = self.log.withLock { log -> Int in
                let status = log.count < self.failures ? 500 : 200
                log.append(Received(
                    eventID: request.headers[HTTPField.Name("Movix-Event-Id")!] ?? "", eventType: request.headers[HTTPField.Name("Movix-Event-Type")!] ?? "",
                    signature: request.headers[HTTPField.Name("Movix-Signature")!] ?? "", body: String(buffer: payload), arrivedAt: Date(), status: status
                ))
                return status
            }
            if self.trickles {
                return Response(status: .init(code: status), body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: "o"))
                    // Longer than the sender's timeout in the test; short enough for a graceful stop.
                    try await Task.sleep(for: .seconds(5))
                    try await writer.finish(nil)
                })
            }
            let answer = status == 200 ? String(repeating: "k", count: self.answerBytes) : "not now"
            return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        router.get("health") { _, _ in "ok" }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .error
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        // Stopped gracefully, as on SIGTERM: a server cancelled while a connection was being
        // accepted crashed the test process (NIO's writer deinited unfinished).
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            let result: Result<Value, any Error>
            do {
                try await waitUntilListening()
                result = .success(try await body())
            } catch {
                result = .failure(error)
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
            return try result.get()
        }
    }

    private func waitUntilListening() async throws {
        for _ in 0..<200 {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(socket)
            if connected { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw LiveStackError(message: "the webhook receiver did not start on port \(port)")
    }
}
