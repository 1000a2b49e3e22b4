import Foundation
import SandboxAcquirer
import Testing

@Suite("Fault switches and health")
struct ControlTests {
    @Test("health needs no credentials; faults need them")
    func healthAndAuth() async throws {
        try await SandboxHarness.run { sandbox in
            let health = try await sandbox.send("/sandbox/health", method: .GET, credentials: .none)
            #expect(health.status == 200)
            let faults = try await sandbox.send("/sandbox/faults", method: .GET, credentials: .none)
            #expect(faults.status == 401)
        }
    }

    @Test("PUT replaces the switches; apiErrorRate 1 answers 500 without paying, latency delays answers")
    func replaceFaults() async throws {
        try await SandboxHarness.run { sandbox in
            let put = try await sandbox.send(
                "/sandbox/faults", method: .PUT, body: #"{"apiErrorRate":1,"apiLatencyMs":150}"#, contentType: "application/json"
            )
            #expect(put.status == 200)
            let current = try JSONDecoder().decode(SandboxFaults.self, from: Data(try await sandbox.send("/sandbox/faults", method: .GET).body.utf8))
            #expect(current == SandboxFaults(apiErrorRate: 1, apiLatencyMs: 150))

            let started = ContinuousClock.now
            let failed = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ], headers: [("X-Request-ID", "fault-1")])
            #expect(failed.status == 500)
            #expect(ContinuousClock.now - started >= .milliseconds(150))

            let invalid = try await sandbox.send("/sandbox/faults", method: .PUT, body: #"{"apiErrorRate":2}"#, contentType: "application/json")
            #expect(invalid.status == 400)

            _ = try await sandbox.send("/sandbox/faults", method: .PUT, body: "{}", contentType: "application/json")
            // The failed call changed nothing, so its request id is still free to succeed.
            let retried = try await sandbox.api("/payments/cards/charge", [
                "Amount": 10, "CardCryptogramPacket": TestCard.cryptogram("4000000000003055"),
            ], headers: [("X-Request-ID", "fault-1")])
            #expect(try retried.envelope.success)
            #expect(await sandbox.recorder.all("check").count == 1)
        }
    }
}
