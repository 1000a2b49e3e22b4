import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The test harness itself: a suite that hangs costs CI its whole budget.
@Suite("Test harness")
struct TestHarnessTests {
    @Test("a live stack whose port another socket took starts again on other ports, instead of waiting for a server that stopped")
    func takenPort() async throws {
        let listener = try ListeningSocket()
        defer { listener.close() }
        try await withTestDatabase { database in
            let started = ContinuousClock.now
            try await LiveStack.run(database: database, ports: (billing: listener.port, sandbox: try freePort())) { stack in
                #expect(!stack.billingURL.hasSuffix(":\(listener.port)"))
                let ready = try await stack.get(stack.billingURL + "/health/ready")
                #expect(ready.status == 200)
            }
            // The old harness waited for the dead server for as long as the HTTP client retried (hours).
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }
}

/// A loopback TCP socket that holds a port, listening, until closed.
private struct ListeningSocket {
    let descriptor: Int32
    let port: Int

    init() throws {
        descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let descriptor = descriptor
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && listen(descriptor, 8) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard listening else { throw LiveStackError(message: "could not listen on a loopback port") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}
